package dev.locallambdas.transport.pipe;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.DecoderException;
import java.util.List;

/**
 * Cuts the bytes of a pipe connection into {@link Frame}s whose payloads are retained slices of the
 * socket's buffers (a body is passed on to the client without a copy). A bad header is refused as
 * soon as its ten bytes are there, before any of its payload is awaited: the first frame must be a
 * HELLO of a sane size, and every frame must pass {@link FrameCodec#checkHeader}. A violation is a
 * {@link DecoderException} whose cause is the {@link FrameException}.
 */
final class FrameDecoder extends ByteToMessageDecoder {
  private boolean first = true;

  FrameDecoder() {
    // The merging cumulator copies every read into its buffer while a frame is incomplete, and,
    // because the frames handed on are retained slices of that buffer, copies the buffer itself
    // whenever it must grow: a 256 KiB body arriving in socket-sized reads was copied several
    // times. A composite cumulation adds the reads as components instead, so a body is never
    // copied between the socket and the client.
    setCumulator(COMPOSITE_CUMULATOR);
  }

  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
    while (in.readableBytes() >= FrameCodec.HEADER_SIZE) {
      int start = in.readerIndex();
      int length;
      int type = in.getUnsignedByte(start + 4);
      try {
        length =
            FrameCodec.checkHeader(
                in.getUnsignedInt(start),
                type,
                in.getUnsignedByte(start + 5),
                in.getInt(start + 6));
        if (first) {
          if (type != FrameCodec.HELLO) {
            throw new FrameException(
                "child sent " + FrameCodec.typeName(type) + " instead of HELLO");
          }
          if (length > FrameCodec.MAX_HELLO_PAYLOAD) {
            throw new FrameException("child sent a HELLO of " + length + " bytes");
          }
        }
      } catch (FrameException e) {
        in.skipBytes(in.readableBytes());
        throw new DecoderException(e);
      }
      if (in.readableBytes() - FrameCodec.HEADER_SIZE < length) {
        return;
      }
      first = false;
      int flags = in.getUnsignedByte(start + 5);
      int stream = in.getInt(start + 6);
      in.skipBytes(FrameCodec.HEADER_SIZE);
      out.add(new Frame(type, flags, stream, in.readRetainedSlice(length)));
    }
  }

  /**
   * Passed on instead of a frame when the connection ended in the middle of one (before the
   * connection's end itself is seen), so the failure can say so.
   */
  static final Object TRUNCATED =
      new Object() {
        @Override
        public String toString() {
          return "connection closed in the middle of a frame";
        }
      };

  @Override
  protected void decodeLast(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
    decode(ctx, in, out);
    if (in.isReadable()) {
      in.skipBytes(in.readableBytes());
      out.add(TRUNCATED);
    }
  }
}
