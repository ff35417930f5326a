package dev.locallambdas.frontdoor;

import dev.locallambdas.cache.Lookup;
import dev.locallambdas.exchange.Headers;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.util.AsciiString;
import java.nio.charset.StandardCharsets;

/**
 * Writes cache hits as raw bytes. The status line and fields of a stored response are encoded once
 * and kept with the entry; a hit only appends its Age and connection fields and the body (copied
 * into the same buffer when small, else wrapped without copying), so the fastest path of the
 * gateway costs one buffer and one write.
 */
final class CachedResponses {
  private static final int COPY_LIMIT = 8 * 1024;
  private static final byte[] AGE = "age: ".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] REQUEST_ID = "x-request-id: ".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] CLOSE = "connection: close\r\n".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] KEEP_ALIVE =
      "connection: keep-alive\r\n".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] CRLF = {'\r', '\n'};
  private static final AsciiString X_CACHE = AsciiString.cached("x-cache");
  private static final AsciiString HIT = AsciiString.cached("HIT");

  private CachedResponses() {}

  /** The encoded status line and fields of a hit, ending with a field line (no blank line). */
  static byte[] encode(Lookup.Hit hit) {
    int status = hit.status();
    StringBuilder sb = new StringBuilder(256);
    sb.append("HTTP/1.1 ")
        .append(status)
        .append(' ')
        .append(HttpResponseStatus.valueOf(status).reasonPhrase())
        .append("\r\n");
    Headers h = hit.headers();
    for (int i = 0; i < h.size(); i++) {
      sb.append(h.name(i)).append(": ").append(h.value(i)).append("\r\n");
    }
    if (status != 204 && status != 304) {
      sb.append("content-length: ").append(hit.body().length).append("\r\n");
    }
    sb.append("x-cache: HIT\r\n");
    // Field values are octets; ISO-8859-1 maps chars 0-255 back to the bytes they came from.
    return sb.toString().getBytes(StandardCharsets.ISO_8859_1);
  }

  /**
   * A hit on an HTTP/2 stream, written as its frames (no HTTP/1.x message to convert): the same
   * fields as {@link #render}, without the connection fields HTTP/2 does not have. The stored
   * fields are already lower case and valid (they passed the function's response checks).
   */
  static ChannelFuture writeFrames(
      ChannelHandlerContext ctx, Lookup.Hit hit, boolean head, String requestId) {
    int status = hit.status();
    byte[] body = head || status == 204 || status == 304 ? null : hit.body();
    boolean bodiless = body == null || body.length == 0;
    Headers h = hit.headers();
    Http2Headers out = new DefaultHttp2Headers(false, h.size() + 5);
    out.status(HttpResponseStatus.valueOf(status).codeAsText());
    for (int i = 0; i < h.size(); i++) {
      out.add(h.name(i), h.value(i));
    }
    if (status != 204 && status != 304) {
      out.setInt(HttpHeaderNames.CONTENT_LENGTH, hit.body().length);
    }
    out.set(X_CACHE, HIT);
    out.set(HttpHeaderNames.AGE, hit.age());
    out.set(ForwardedHeaders.REQUEST_ID, requestId);
    if (bodiless) {
      return ctx.writeAndFlush(new DefaultHttp2HeadersFrame(out, true));
    }
    ctx.write(new DefaultHttp2HeadersFrame(out, false), ctx.voidPromise());
    return ctx.writeAndFlush(new DefaultHttp2DataFrame(Unpooled.wrappedBuffer(body), true));
  }

  static ByteBuf render(
      ByteBufAllocator alloc,
      Lookup.Hit hit,
      boolean head,
      boolean keepAlive,
      boolean http10,
      String requestId) {
    byte[] prefix = hit.wireForm(CachedResponses::encode);
    String age = hit.age();
    byte[] body = head || hit.status() == 204 || hit.status() == 304 ? null : hit.body();
    int bodyLength = body == null ? 0 : body.length;
    boolean copy = bodyLength <= COPY_LIMIT;
    ByteBuf out = alloc.ioBuffer(prefix.length + 80 + requestId.length() + (copy ? bodyLength : 0));
    out.writeBytes(prefix);
    out.writeBytes(AGE);
    for (int i = 0; i < age.length(); i++) {
      out.writeByte(age.charAt(i));
    }
    out.writeBytes(CRLF);
    out.writeBytes(REQUEST_ID);
    for (int i = 0; i < requestId.length(); i++) {
      out.writeByte(requestId.charAt(i)); // visible ASCII only (ForwardedHeaders.requestId)
    }
    out.writeBytes(CRLF);
    if (!keepAlive) {
      out.writeBytes(CLOSE);
    } else if (http10) {
      out.writeBytes(KEEP_ALIVE);
    }
    out.writeBytes(CRLF);
    if (bodyLength == 0) {
      return out;
    }
    if (copy) {
      return out.writeBytes(body);
    }
    CompositeByteBuf composite = alloc.compositeBuffer(2);
    composite.addComponents(true, out, Unpooled.wrappedBuffer(body));
    return composite;
  }
}
