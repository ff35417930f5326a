package dev.locallambdas.sdk;

import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** One HTTP request as the gateway routed it. Its body is streamed from the gateway. */
public final class Request {

  private final String method;
  private final String target;
  private final List<Map.Entry<String, String>> headers;
  private final InputStream body;

  Request(String method, String target, List<Map.Entry<String, String>> headers, InputStream body) {
    this.method = method;
    this.target = target;
    this.headers = headers;
    this.body = body;
  }

  /** The method, e.g. {@code GET}. */
  public String method() {
    return method;
  }

  /** Path and query exactly as routed, e.g. {@code /api/items?id=7}. */
  public String target() {
    return target;
  }

  /** The path part of the target, e.g. {@code /api/items}. */
  public String path() {
    int query = target.indexOf('?');
    return query < 0 ? target : target.substring(0, query);
  }

  /** The query after {@code ?}, e.g. {@code id=7}, or null when the target has none. */
  public String query() {
    int query = target.indexOf('?');
    return query < 0 ? null : target.substring(query + 1);
  }

  /** All headers in order; names are lower case, a repeated header appears several times. */
  public List<Map.Entry<String, String>> headers() {
    return headers;
  }

  /** The first value of the named header (case-insensitive), or null. */
  public String header(String name) {
    String lower = name.toLowerCase(Locale.ROOT);
    for (Map.Entry<String, String> header : headers) {
      if (header.getKey().equals(lower)) {
        return header.getValue();
      }
    }
    return null;
  }

  /**
   * The body as it arrives from the gateway. Reading fails with an IOException if the gateway
   * cancels the request. What the handler leaves unread is discarded.
   */
  public InputStream body() {
    return body;
  }

  /** Reads the whole remaining body into memory. */
  public byte[] bodyBytes() throws IOException {
    return body.readAllBytes();
  }
}
