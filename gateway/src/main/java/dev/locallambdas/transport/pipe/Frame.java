package dev.locallambdas.transport.pipe;

import io.netty.buffer.ByteBuf;
import io.netty.util.ReferenceCounted;

/**
 * One decoded pipe frame. The payload is a buffer of its own: a retained slice of what the socket
 * delivered, so a body can be passed on to the client without copying. Whoever ends up with a frame
 * releases it (or hands its payload on).
 */
record Frame(int type, int flags, int stream, ByteBuf payload) {
  boolean endStream() {
    return (flags & FrameCodec.END_STREAM) != 0;
  }

  /** Releases the payload. */
  void release() {
    ReferenceCounted p = payload;
    if (p.refCnt() > 0) {
      p.release();
    }
  }

  @Override
  public String toString() {
    return FrameCodec.typeName(type)
        + "[stream="
        + Integer.toUnsignedString(stream)
        + (endStream() ? ", END_STREAM" : "")
        + ", "
        + payload.readableBytes()
        + " bytes]";
  }
}
