package dev.locallambdas.bench.frontdoor;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.ReferenceCountUtil;

/**
 * Answers every request on the event loop from a cached body, the way a cache hit would be
 * answered. Request content is dropped; the response is written per request and flushed once per
 * read batch.
 */
@Sharable
final class HelloHandler extends ChannelInboundHandlerAdapter {
  // Read-only, never released: each response sends a retained duplicate of it.
  private static final ByteBuf BODY =
      Unpooled.unreleasableBuffer(
          Unpooled.directBuffer(Hello.BODY.length).writeBytes(Hello.BODY).asReadOnly());

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    try {
      if (msg instanceof HttpRequest request) {
        if (request.decoderResult().isFailure()) {
          ctx.writeAndFlush(badRequest()).addListener(f -> ctx.close());
          return;
        }
        FullHttpResponse response =
            new DefaultFullHttpResponse(
                HttpVersion.HTTP_1_1, HttpResponseStatus.OK, BODY.duplicate());
        response
            .headers()
            .set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.TEXT_PLAIN)
            .setInt(HttpHeaderNames.CONTENT_LENGTH, Hello.BODY.length);
        HttpUtil.setKeepAlive(response, HttpUtil.isKeepAlive(request));
        ctx.write(response);
      } else if (!(msg instanceof HttpContent)) {
        ctx.fireChannelRead(ReferenceCountUtil.retain(msg));
      }
    } finally {
      ReferenceCountUtil.release(msg);
    }
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    ctx.flush();
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    ctx.close();
  }

  private static FullHttpResponse badRequest() {
    FullHttpResponse response =
        new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.BAD_REQUEST);
    response.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, 0);
    HttpUtil.setKeepAlive(response, false);
    return response;
  }
}
