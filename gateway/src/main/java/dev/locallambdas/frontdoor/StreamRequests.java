package dev.locallambdas.frontdoor;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.util.AsciiString;
import java.util.Map;

/**
 * An HTTP/2 stream's inbound frames as the HTTP/1.x messages the front door serves: the request's
 * HEADERS become an {@link HttpRequest} (a full one, with no body to wait for, when they end the
 * stream), DATA frames become its content, trailers end it. Responses go the other way through
 * Netty's {@code Http2StreamFrameToHttpObjectCodec}, after this handler.
 *
 * <p>Netty's codec converts requests too, but through a general conversion that adds its own {@code
 * x-http2-*} fields (which would then have to be removed before a function sees them) and allocates
 * a body buffer for every bodiless request; this one builds what the front door reads and nothing
 * else. The frame codec has already checked the header block (RFC 9113 8.2 and 8.3: names,
 * pseudo-fields, connection-specific fields); the field values are checked here as the HTTP/1.1
 * decoder checks them, and a request that fails is a stream error (PROTOCOL_ERROR), which the
 * connection handler answers with RST_STREAM.
 */
@ChannelHandler.Sharable
final class StreamRequests extends ChannelInboundHandlerAdapter {
  static final StreamRequests INSTANCE = new StreamRequests();

  private StreamRequests() {}

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
    if (msg instanceof Http2HeadersFrame frame) {
      Http2Headers h = frame.headers();
      if (h.method() == null && h.path() == null && h.status() == null) {
        // Trailers: the frame codec lets them only end the stream. Functions get no trailers (the
        // HTTP/1.1 front door drops them too).
        ctx.fireChannelRead(LastHttpContent.EMPTY_LAST_CONTENT);
      } else {
        int id = frame.stream() == null ? 0 : frame.stream().id();
        ctx.fireChannelRead(request(id, h, frame.isEndStream()));
      }
    } else if (msg instanceof Http2DataFrame data) {
      ctx.fireChannelRead(
          data.isEndStream()
              ? new DefaultLastHttpContent(data.content())
              : new DefaultHttpContent(data.content()));
    } else {
      ctx.fireChannelRead(msg);
    }
  }

  /** The request a header block carries; {@code end}: no body follows. */
  static HttpRequest request(int streamId, Http2Headers h, boolean end) throws Http2Exception {
    CharSequence method = h.method();
    CharSequence authority = h.authority();
    CharSequence path = h.path();
    if (method == null) {
      throw malformed(streamId, "no :method");
    }
    if (HttpMethod.CONNECT.asciiName().contentEquals(method)) {
      path = authority; // RFC 9113 8.5: a CONNECT names its target in :authority alone
    }
    if (path == null || path.length() == 0) {
      throw malformed(streamId, "no :path");
    }
    HttpHeaders out = DefaultHttpHeadersFactory.headersFactory().newHeaders();
    StringBuilder cookies = null;
    try {
      for (Map.Entry<CharSequence, CharSequence> e : h) {
        CharSequence name = e.getKey();
        if (name.length() > 0 && name.charAt(0) == ':') {
          continue;
        }
        if (AsciiString.contentEquals(HttpHeaderNames.COOKIE, name)) {
          // RFC 9113 8.2.3: crumbs split over several fields are one field again for HTTP/1.1.
          cookies = cookies == null ? new StringBuilder() : cookies.append("; ");
          cookies.append(e.getValue());
          continue;
        }
        out.add(name, e.getValue());
      }
      if (cookies != null) {
        out.add(HttpHeaderNames.COOKIE, cookies.toString());
      }
    } catch (IllegalArgumentException bad) {
      throw malformed(streamId, "a bad field (" + bad.getMessage() + ")");
    }
    HttpMethod m;
    try {
      m = HttpMethod.valueOf(method.toString());
    } catch (IllegalArgumentException bad) {
      throw malformed(streamId, "a bad :method (" + bad.getMessage() + ")");
    }
    if (authority != null) {
      String host = out.get(HttpHeaderNames.HOST);
      if (host == null) {
        out.add(HttpHeaderNames.HOST, authority);
      } else if (!AsciiString.contentEqualsIgnoreCase(host, authority)) {
        // RFC 9113 8.3.1: a Host that names another authority than :authority is malformed.
        throw malformed(streamId, "Host and :authority differ");
      }
    }
    String uri = path.toString();
    if (end) {
      return new DefaultFullHttpRequest(
          HttpVersion.HTTP_1_1,
          m,
          uri,
          Unpooled.EMPTY_BUFFER,
          out,
          DefaultHttpHeadersFactory.trailersFactory().newEmptyHeaders());
    }
    if (!out.contains(HttpHeaderNames.CONTENT_LENGTH)) {
      out.add(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED); // length unknown
    }
    return new DefaultHttpRequest(HttpVersion.HTTP_1_1, m, uri, out);
  }

  private static Http2Exception malformed(int streamId, String why) {
    return Http2Exception.streamError(
        streamId, Http2Error.PROTOCOL_ERROR, "malformed request: %s", why);
  }
}
