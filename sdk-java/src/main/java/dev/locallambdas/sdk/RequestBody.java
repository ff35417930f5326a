package dev.locallambdas.sdk;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.util.ArrayDeque;
import java.util.Objects;

/**
 * A request body as a stream of the REQUEST_BODY chunks. With concurrency 1 the handler's thread
 * pulls the frames off the socket itself (no hand-off); otherwise the reader thread queues them
 * here, and stops reading the socket while more than {@link #LIMIT} bytes wait, which pushes back
 * on the gateway through the socket buffers.
 */
final class RequestBody extends InputStream {

  static final long LIMIT = 4L << 20;
  private static final byte[] NONE = new byte[0];

  /** Non-null in the sequential mode: reading the body drives the connection. */
  private final Server pump;

  private final ArrayDeque<byte[]> chunks = new ArrayDeque<>();
  private long queued;
  private boolean ended;
  private boolean discarded;
  private String resetReason;

  // Touched by the handler's thread only.
  private byte[] current = NONE;
  private int position;

  RequestBody(Server pump) {
    this.pump = pump;
  }

  /** Adds a chunk from the gateway; dropped once the body is discarded or reset. */
  synchronized void offer(byte[] chunk, boolean end) throws InterruptedIOException {
    while (pump == null && queued >= LIMIT && !discarded && resetReason == null) {
      try {
        wait();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new InterruptedIOException("interrupted while the request body was full");
      }
    }
    if (!discarded && resetReason == null && chunk.length > 0) {
      chunks.add(chunk);
      queued += chunk.length;
    }
    if (end) {
      ended = true;
    }
    notifyAll();
  }

  /** The request was cancelled: reading fails from now on with the reason. */
  synchronized void reset(String reason) {
    if (resetReason == null) {
      resetReason = reason;
    }
    drop();
  }

  /** Nobody will read the rest: drop what is queued and what still arrives. */
  synchronized void discard() {
    discarded = true;
    drop();
  }

  @Override
  public int read() throws IOException {
    if (!ensureCurrent()) {
      return -1;
    }
    return current[position++] & 0xFF;
  }

  @Override
  public int read(byte[] bytes, int offset, int length) throws IOException {
    Objects.checkFromIndexSize(offset, length, bytes.length);
    if (length == 0) {
      return 0;
    }
    if (!ensureCurrent()) {
      return -1;
    }
    int count = Math.min(length, current.length - position);
    System.arraycopy(current, position, bytes, offset, count);
    position += count;
    return count;
  }

  @Override
  public int available() {
    return current.length - position;
  }

  @Override
  public void close() {
    discard();
  }

  private boolean ensureCurrent() throws IOException {
    while (position == current.length) {
      byte[] next = next();
      if (next == null) {
        return false;
      }
      current = next;
      position = 0;
    }
    return true;
  }

  private byte[] next() throws IOException {
    while (true) {
      synchronized (this) {
        if (resetReason != null) {
          throw new IOException(resetReason);
        }
        byte[] chunk = chunks.poll();
        if (chunk != null) {
          queued -= chunk.length;
          notifyAll();
          return chunk;
        }
        if (ended || discarded) {
          return null;
        }
        if (pump == null) {
          try {
            wait();
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while reading the request body");
          }
          continue;
        }
      }
      pump.pumpOne();
    }
  }

  private void drop() {
    chunks.clear();
    queued = 0;
    notifyAll();
  }
}
