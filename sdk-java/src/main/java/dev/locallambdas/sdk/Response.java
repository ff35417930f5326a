package dev.locallambdas.sdk;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A response: a status, headers and either a body in memory or a {@link BodyWriter} that streams
 * it. The gateway adds the framing headers ({@code content-length} or chunked encoding) itself.
 */
public final class Response {

  /** Streams a response body. */
  @FunctionalInterface
  public interface BodyWriter {

    /**
     * Writes the body to {@code out}. Bytes are sent in chunks of at most 64 KiB; {@code flush()}
     * sends what is buffered at once (for server-sent events and the like). The SDK ends the body
     * when this method returns; closing {@code out} only flushes it.
     *
     * <p>With protocol 1.1 a write waits while the gateway has granted no room for more of the
     * response (its window; the client reads slowly). Writes throw an {@link IOException} once the
     * gateway has cancelled the request or the connection is gone, also a write that was waiting:
     * let it propagate, the SDK then sends nothing more and tells the gateway when this method has
     * returned. The writer may throw only {@code IOException} (wrap anything else); any exception
     * becomes a 500 if nothing was sent yet, otherwise it aborts the response.
     */
    void writeTo(OutputStream out) throws IOException;
  }

  private static final byte[] EMPTY = new byte[0];

  private final int status;
  private final List<String> headers = new ArrayList<>(4); // name, value, name, value...
  private final byte[] body;
  private final BodyWriter writer;

  private Response(int status, byte[] body, BodyWriter writer) {
    if (status <= 100 || status == 101 || status > 599) {
      throw new IllegalArgumentException("status must be within 102..599, got " + status);
    }
    this.status = status;
    this.body = body;
    this.writer = writer;
  }

  /** 200 with a UTF-8 text body. */
  public static Response ok(String text) {
    return text(200, text);
  }

  /** The status with a UTF-8 text body. */
  public static Response text(int status, String text) {
    return of(status, text.getBytes(StandardCharsets.UTF_8))
        .header("content-type", "text/plain; charset=utf-8");
  }

  /** 200 with a JSON body (the text is sent as given). */
  public static Response json(String json) {
    return of(200, json.getBytes(StandardCharsets.UTF_8))
        .header("content-type", "application/json");
  }

  /** The status with raw body bytes (the array is not copied; do not change it afterwards). */
  public static Response of(int status, byte[] body) {
    return new Response(status, body == null ? EMPTY : body, null);
  }

  /** The status with a body streamed by {@code writer} once the head is sent. */
  public static Response streaming(int status, BodyWriter writer) {
    if (writer == null) {
      throw new IllegalArgumentException("writer is null");
    }
    return new Response(status, null, writer);
  }

  /**
   * Adds a header (a repeated name is sent several times) and returns this response. Names are sent
   * in lower case.
   */
  public Response header(String name, String value) {
    if (name == null || name.isEmpty() || !isToken(name)) {
      throw new IllegalArgumentException("header name is not an HTTP token: " + name);
    }
    if (value == null
        || value.indexOf('\r') >= 0
        || value.indexOf('\n') >= 0
        || value.indexOf('\0') >= 0) {
      throw new IllegalArgumentException(
          "header " + name + " value is null or contains CR, LF or NUL: " + value);
    }
    headers.add(name.toLowerCase(Locale.ROOT));
    headers.add(value);
    return this;
  }

  public int status() {
    return status;
  }

  /** The headers added so far, in order. */
  public List<Map.Entry<String, String>> headers() {
    List<Map.Entry<String, String>> entries = new ArrayList<>(headers.size() / 2);
    for (int i = 0; i < headers.size(); i += 2) {
      entries.add(Map.entry(headers.get(i), headers.get(i + 1)));
    }
    return entries;
  }

  /** The body in memory, or null for a streamed response. */
  byte[] body() {
    return body;
  }

  /** The writer of a streamed response, or null. */
  BodyWriter writer() {
    return writer;
  }

  /** The RESPONSE_HEAD payload. */
  byte[] encodeHead() {
    return new PayloadWriter().u16(status).headers(headers).toByteArray();
  }

  private static boolean isToken(String name) {
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      boolean ok =
          c >= 'a' && c <= 'z'
              || c >= 'A' && c <= 'Z'
              || c >= '0' && c <= '9'
              || "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
      if (!ok) {
        return false;
      }
    }
    return true;
  }
}
