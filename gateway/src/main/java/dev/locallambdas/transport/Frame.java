package dev.locallambdas.transport;

import java.nio.ByteBuffer;

/**
 * One decoded pipe frame. The payload is a buffer of its own (never a view into a reused read
 * buffer), so a frame can be queued and handed to another thread.
 */
record Frame(int type, int flags, int stream, ByteBuffer payload) {
  boolean endStream() {
    return (flags & FrameCodec.END_STREAM) != 0;
  }

  @Override
  public String toString() {
    return FrameCodec.typeName(type)
        + "[stream="
        + Integer.toUnsignedString(stream)
        + (endStream() ? ", END_STREAM" : "")
        + ", "
        + payload.remaining()
        + " bytes]";
  }
}
