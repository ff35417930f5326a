package dev.locallambdas.sdk;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;

/**
 * Reads and writes frames on the connection. Reading is done by one thread at a time; writes may
 * come from several threads and are serialised so that frames never interleave.
 */
final class FrameChannel implements Closeable {

  private final SocketChannel channel;

  /**
   * Read-ahead, in read mode: one read(2) usually brings a small frame's header and payload.
   * Direct, so that the JDK reads into it without a temporary buffer and a copy.
   */
  private final ByteBuffer input = ByteBuffer.allocateDirect(Frame.HEADER_SIZE + Frame.CHUNK);

  private final Object writeLock = new Object();
  private volatile int maxPayload = Frame.MAX_PAYLOAD;
  private volatile int version = 1;
  private volatile boolean shm;

  FrameChannel(SocketChannel channel) {
    this.channel = channel;
    input.flip();
  }

  void maxPayload(int bytes) {
    maxPayload = bytes;
  }

  int maxPayload() {
    return maxPayload;
  }

  /** The negotiated protocol version, which decides the known frame types. */
  void version(int version) {
    this.version = version;
  }

  /** Shared-memory frames are known from now on. */
  void sharedMemory() {
    this.shm = true;
  }

  /** Returns the next frame, or null when the peer closed the connection between frames. */
  Frame read() throws IOException {
    if (!fill(Frame.HEADER_SIZE)) {
      if (input.hasRemaining()) {
        throw new ProtocolException("connection closed inside a frame header");
      }
      return null;
    }
    long length = input.getInt() & 0xFFFFFFFFL;
    int type = input.get() & 0xFF;
    int flags = input.get() & 0xFF;
    int stream = input.getInt();
    if (length > maxPayload) {
      throw new ProtocolException(
          "frame payload of " + length + " bytes exceeds the maximum of " + maxPayload);
    }
    if (!Frame.isKnownType(type, version, shm)) {
      throw new ProtocolException("unknown frame type " + Frame.hex(type));
    }
    if ((flags & ~Frame.END_STREAM) != 0) {
      throw new ProtocolException("reserved flag bits set: " + Frame.hex(flags));
    }
    byte[] payload = new byte[(int) length];
    int buffered = Math.min(input.remaining(), payload.length);
    input.get(payload, 0, buffered);
    ByteBuffer rest = ByteBuffer.wrap(payload, buffered, payload.length - buffered);
    while (rest.hasRemaining()) {
      if (channel.read(rest) < 0) {
        throw new ProtocolException("connection closed inside a frame payload");
      }
    }
    return new Frame(type, flags, stream, payload);
  }

  /**
   * Whether {@link #read} would find input (a frame or end of stream) without waiting. Only for the
   * sequential mode, where no other thread is blocked reading.
   */
  boolean hasInput() throws IOException {
    if (input.hasRemaining()) {
      return true;
    }
    channel.configureBlocking(false);
    try {
      input.compact();
      int count;
      try {
        count = channel.read(input);
      } finally {
        input.flip();
      }
      return count != 0;
    } finally {
      channel.configureBlocking(true);
    }
  }

  void send(int type, int flags, int stream, byte[] payload) throws IOException {
    send(Frame.header(type, flags, stream, checked(payload.length)), ByteBuffer.wrap(payload));
  }

  /** Writes the buffers (whole frames, headers included) as one uninterrupted sequence. */
  void send(ByteBuffer... buffers) throws IOException {
    synchronized (writeLock) {
      int first = 0;
      while (first < buffers.length) {
        if (buffers[first].hasRemaining()) {
          channel.write(buffers, first, buffers.length - first);
        } else {
          first++;
        }
      }
    }
  }

  int checked(int length) throws IOException {
    if (length > maxPayload) {
      throw new IOException(
          "frame payload of " + length + " bytes exceeds the maximum of " + maxPayload);
    }
    return length;
  }

  @Override
  public void close() throws IOException {
    channel.close();
  }

  private boolean fill(int count) throws IOException {
    while (input.remaining() < count) {
      input.compact();
      int read;
      try {
        read = channel.read(input);
      } finally {
        input.flip();
      }
      if (read < 0) {
        return false;
      }
    }
    return true;
  }
}
