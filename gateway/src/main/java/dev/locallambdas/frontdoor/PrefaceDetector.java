package dev.locallambdas.frontdoor;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.http2.Http2CodecUtil;
import java.util.List;

/**
 * First handler of a cleartext connection: tells an HTTP/2 client with prior knowledge (RFC 9113
 * section 3.3: it opens with the connection preface {@code PRI * HTTP/2.0...}) from an HTTP/1.x
 * one, from the first bytes, and leaves the pipeline to the matching handlers. It removes itself
 * after the first decision, handing on every byte it held, so an HTTP/1.1 connection pays for one
 * comparison only.
 */
final class PrefaceDetector extends ByteToMessageDecoder {
  private static final ByteBuf PREFACE = Http2CodecUtil.connectionPrefaceBuf();

  /** Told when the connection turns out to be HTTP/2: replace the HTTP/1.1 handlers. */
  interface Switch {
    void toHttp2(ChannelHandlerContext ctx);
  }

  private final Switch onHttp2;

  PrefaceDetector(Switch onHttp2) {
    this.onHttp2 = onHttp2;
  }

  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
    int n = Math.min(in.readableBytes(), PREFACE.readableBytes());
    if (!ByteBufUtil.equals(in, in.readerIndex(), PREFACE, PREFACE.readerIndex(), n)) {
      ctx.pipeline().remove(this); // HTTP/1.x: the bytes go on to the HTTP/1.1 decoder
      return;
    }
    if (n < PREFACE.readableBytes()) {
      return; // a prefix of the preface so far: wait for more
    }
    onHttp2.toHttp2(ctx);
    ctx.pipeline().remove(this); // the codec reads the preface itself
  }
}
