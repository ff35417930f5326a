package dev.locallambdas.sdk;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A request body as a stream of the REQUEST_BODY chunks. With concurrency 1 the handler's thread
 * pulls the frames off the socket itself (no hand-off); otherwise the reader thread queues them
 * here. With protocol version 2 the gateway sends at most a window beyond what was credited, so the
 * reader never waits here, and what the handler consumes is reported to the exchange, which grants
 * CREDIT. With version 1 the reader stops reading the socket while more than {@link #LIMIT} bytes
 * wait, which pushes back on the gateway through the socket buffers.
 */
final class RequestBody extends InputStream {

  static final long LIMIT = 4L << 20;
  private static final byte[] NONE = new byte[0];

  /** Non-null in the sequential mode: reading the body drives the connection. */
  private final Server pump;

  /** Told how many bytes the handler consumed, for CREDIT. */
  private final Exchange owner;

  /** Version 1: the reader waits while {@link #LIMIT} bytes are queued. */
  private final boolean bounded;

  private final ArrayDeque<byte[]> chunks = new ArrayDeque<>();
  private long queued;
  private boolean ended;
  private boolean discarded;
  private String resetReason;

  // Touched by the handler's thread only.
  private byte[] current = NONE;
  private int position;

  RequestBody(Server pump, Exchange owner, boolean bounded) {
    this.pump = pump;
    this.owner = owner;
    this.bounded = bounded;
  }

  /** Adds a chunk from the gateway; dropped once the body is discarded or reset. */
  synchronized void offer(byte[] chunk, boolean end) throws InterruptedIOException {
    while (bounded && pump == null && queued >= LIMIT && !discarded && resetReason == null) {
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

  /** Whether END_STREAM arrived: no more body will come, so no CREDIT is needed. */
  synchronized boolean ended() {
    return ended;
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

  /** Writes each chunk as it comes, without the default's intermediate buffer and copy. */
  @Override
  public long transferTo(OutputStream out) throws IOException {
    Objects.requireNonNull(out, "out");
    long total = 0;
    while (ensureCurrent()) {
      int count = current.length - position;
      out.write(current, position, count);
      position = current.length;
      total += count;
    }
    return total;
  }

  /** The rest of the body in one array, copied once (a lone whole chunk not at all). */
  @Override
  public byte[] readAllBytes() throws IOException {
    List<byte[]> chunks = new ArrayList<>();
    long size = 0;
    int first = position;
    while (ensureCurrent()) {
      chunks.add(current);
      size += current.length - position;
      if (chunks.size() > 1) {
        first = 0; // only the first chunk may have been partly read
      }
      position = current.length;
    }
    if (size > Integer.MAX_VALUE - 8) {
      throw new OutOfMemoryError("request body too large for an array: " + size + " bytes");
    }
    if (chunks.size() == 1 && first == 0) {
      return chunks.get(0); // ours alone: it came off the socket for this request
    }
    byte[] all = new byte[(int) size];
    int offset = 0;
    for (int i = 0; i < chunks.size(); i++) {
      byte[] chunk = chunks.get(i);
      int from = i == 0 ? first : 0;
      System.arraycopy(chunk, from, all, offset, chunk.length - from);
      offset += chunk.length - from;
    }
    return all;
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
    byte[] chunk = poll();
    if (chunk != null) {
      owner.consumed(chunk.length); // outside the lock: it may send CREDIT
    }
    return chunk;
  }

  /** The next chunk, waiting (or pumping) for it; null at the end of the body. */
  private byte[] poll() throws IOException {
    while (true) {
      synchronized (this) {
        if (resetReason != null) {
          throw new IOException(resetReason);
        }
        byte[] chunk = chunks.poll();
        if (chunk != null) {
          queued -= chunk.length;
          if (bounded) {
            notifyAll(); // a version 1 reader may wait for room
          }
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
