package dev.locallambdas.transport.http;

import dev.locallambdas.exchange.Headers;
import dev.locallambdas.exchange.HttpSyntax;
import dev.locallambdas.exchange.Request;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpHeadersFactory;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.AsciiString;
import java.nio.charset.StandardCharsets;

/** The request head the gateway sends to a child's server, built from a {@link Request}. */
final class RequestHead {
  // Fields are checked below with HttpSyntax (the front door's grammar), not a second time.
  private static final HttpHeadersFactory FIELDS =
      DefaultHttpHeadersFactory.headersFactory().withValidation(false);

  private RequestHead() {}

  /**
   * The head, with framing for a body of {@code request.bodyLength()} bytes: Content-Length when
   * known (and 0 for a bodiless method that usually carries a body, as the old client did), chunked
   * when unknown. A head without a body is a full request, so it is written and flushed in one go.
   * {@code host} is the Host field sent when the request has none. Throws IllegalArgumentException
   * for a method, target or field that is not valid HTTP: the front door never produces one, and
   * sending it could split the request.
   */
  static HttpRequest of(Request request, String host) {
    String method = request.method();
    String target = request.target();
    if (!HttpSyntax.isToken(method)) {
      throw new IllegalArgumentException(
          "invalid request method '" + HttpSyntax.printable(method) + "'");
    }
    if (!visibleAscii(target)) {
      throw new IllegalArgumentException(
          "request target '" + HttpSyntax.printable(target) + "' is empty or not visible ASCII");
    }
    Headers given = request.headers();
    if (given.get("connection") != null) {
      given = HttpSyntax.endToEnd(given); // drops the fields Connection names, too
    }
    HttpHeaders fields = FIELDS.newHeaders();
    boolean hasHost = false;
    for (int i = 0; i < given.size(); i++) {
      String name = given.name(i);
      if (HttpSyntax.isHopByHop(name)) {
        continue; // framing is the gateway's own; the rest describes the client's connection
      }
      String value = given.value(i);
      if (!HttpSyntax.isToken(name) || !HttpSyntax.isValidValue(value)) {
        throw new IllegalArgumentException(
            "request header '" + HttpSyntax.printable(name) + "' is not valid HTTP");
      }
      hasHost |= name.equals("host");
      fields.add(name, bytesAsGiven(value));
    }
    if (!hasHost) {
      fields.add(HttpHeaderNames.HOST, host);
    }
    long length = request.bodyLength();
    if (length < 0) {
      fields.add(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
    } else if (length > 0 || !bodiless(method)) {
      fields.add(HttpHeaderNames.CONTENT_LENGTH, Long.toString(length));
    }
    HttpMethod m = HttpMethod.valueOf(method);
    if (length == 0) {
      return new DefaultFullHttpRequest(
          HttpVersion.HTTP_1_1,
          m,
          target,
          Unpooled.EMPTY_BUFFER,
          fields,
          EmptyHttpHeaders.INSTANCE);
    }
    return new DefaultHttpRequest(HttpVersion.HTTP_1_1, m, target, fields);
  }

  private static boolean visibleAscii(String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c <= ' ' || c >= 0x7f) {
        return false;
      }
    }
    return !s.isEmpty();
  }

  /** Methods whose requests usually have no body; they get no "content-length: 0". */
  static boolean bodiless(String method) {
    return switch (method) {
      case "GET", "HEAD", "DELETE", "OPTIONS", "TRACE", "CONNECT" -> true;
      default -> false;
    };
  }

  /**
   * The value as the bytes the front door received: Netty's encoder writes a String as US-ASCII
   * (turning obs-text into '?'), so text beyond ASCII goes as ISO-8859-1 bytes (one byte per char,
   * as the front door decoded it), or UTF-8 when it holds wider characters.
   */
  private static CharSequence bytesAsGiven(String value) {
    boolean ascii = true;
    boolean wide = false;
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      ascii &= c < 0x80;
      wide |= c > 0xff;
    }
    if (ascii) {
      return value;
    }
    return new AsciiString(
        value.getBytes(wide ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1), false);
  }
}
