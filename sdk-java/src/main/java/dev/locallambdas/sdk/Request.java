package dev.locallambdas.sdk;

import java.io.IOException;
import java.io.InputStream;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

/** One HTTP request as the gateway routed it. Its body is streamed from the gateway. */
public final class Request {

  private final String method;
  private final String target;
  private final List<Map.Entry<String, String>> headers;
  private final InputStream body;

  /** System.nanoTime() at the deadline; meaningless without one. */
  private final long deadlineNanos;

  private final boolean hasDeadline;

  Request(
      String method,
      String target,
      List<Map.Entry<String, String>> headers,
      InputStream body,
      long deadlineMillis) {
    this.method = method;
    this.target = target;
    this.headers = headers;
    this.body = body;
    this.hasDeadline = deadlineMillis > 0;
    this.deadlineNanos = hasDeadline ? System.nanoTime() + deadlineMillis * 1_000_000L : 0;
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
   * cancels the request or the connection is gone. What the handler leaves unread is discarded.
   * With protocol 1.1 reading is what lets more of a large body come: the gateway sends a window
   * (256 KiB) ahead of what the handler has read.
   */
  public InputStream body() {
    return body;
  }

  /** Reads the whole remaining body into memory. */
  public byte[] bodyBytes() throws IOException {
    return body.readAllBytes();
  }

  /**
   * Milliseconds left until the gateway gives up on this request (0 once the deadline has passed),
   * like AWS Lambda's {@code getRemainingTimeInMillis}; empty when the request has no deadline,
   * which is always so with a protocol 1.0 gateway. At the deadline the gateway answers 504 itself
   * and stops this instance, so a handler that calls slow services should give up before it.
   */
  public OptionalLong remainingMillis() {
    if (!hasDeadline) {
      return OptionalLong.empty();
    }
    return OptionalLong.of(Math.max(0, (deadlineNanos - System.nanoTime()) / 1_000_000L));
  }

  /**
   * The wall-clock time of the deadline (see {@link #remainingMillis()}), or empty when there is
   * none. The SDK keeps the deadline on the monotonic clock; this converts it for APIs that take an
   * {@link Instant}, so a change of the system clock shifts it.
   */
  public Optional<Instant> deadline() {
    if (!hasDeadline) {
      return Optional.empty();
    }
    return Optional.of(Instant.now().plusNanos(deadlineNanos - System.nanoTime()));
  }
}
