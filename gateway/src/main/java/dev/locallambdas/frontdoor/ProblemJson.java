package dev.locallambdas.frontdoor;

import dev.locallambdas.exchange.Problem;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.charset.StandardCharsets;

/** Renders a {@link Problem} as an RFC 9457 {@code application/problem+json} response. */
final class ProblemJson {
  static final String TYPE_PREFIX = "https://local-lambdas.dev/problems/";

  private ProblemJson() {}

  /**
   * The response for a problem; {@code close} adds Connection: close, {@code head} leaves the body
   * out (a response to HEAD announces the length of the body it does not send).
   */
  static FullHttpResponse response(Problem p, String instance, boolean close, boolean head) {
    StringBuilder json = new StringBuilder(256);
    json.append("{\"type\":");
    string(json, TYPE_PREFIX + p.type());
    json.append(",\"title\":");
    string(json, p.title());
    json.append(",\"status\":").append(p.status());
    json.append(",\"detail\":");
    string(json, p.detail());
    if (instance != null) {
      json.append(",\"instance\":");
      string(json, instance);
    }
    if (p.function() != null) {
      json.append(",\"function\":");
      string(json, p.function());
    }
    if (!p.stderr().isEmpty()) {
      json.append(",\"stderr\":[");
      for (int i = 0; i < p.stderr().size(); i++) {
        if (i > 0) {
          json.append(',');
        }
        string(json, p.stderr().get(i));
      }
      json.append(']');
    }
    json.append("}\n");
    byte[] bytes = json.toString().getBytes(StandardCharsets.UTF_8);
    ByteBuf body = head ? Unpooled.EMPTY_BUFFER : Unpooled.wrappedBuffer(bytes);
    // The reason phrase is the problem's title, so the two never disagree (413 Content Too Large).
    FullHttpResponse r =
        new DefaultFullHttpResponse(
            HttpVersion.HTTP_1_1, new HttpResponseStatus(p.status(), p.title()), body);
    r.headers()
        .set(HttpHeaderNames.CONTENT_TYPE, "application/problem+json")
        .setInt(HttpHeaderNames.CONTENT_LENGTH, bytes.length)
        .set(HttpHeaderNames.DATE, HttpDate.now());
    for (int i = 0; i < p.headers().size(); i++) {
      r.headers().add(p.headers().name(i), p.headers().value(i));
    }
    if (p.retryAfterSeconds() > 0) {
      r.headers().set(HttpHeaderNames.RETRY_AFTER, Long.toString(p.retryAfterSeconds()));
    }
    if (close) {
      r.headers().set(HttpHeaderNames.CONNECTION, "close");
    }
    return r;
  }

  static void string(StringBuilder out, String s) {
    out.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        default -> {
          if (c < 0x20 || c == 0x2028 || c == 0x2029) {
            out.append(String.format("\\u%04x", (int) c));
          } else {
            out.append(c);
          }
        }
      }
    }
    out.append('"');
  }
}
