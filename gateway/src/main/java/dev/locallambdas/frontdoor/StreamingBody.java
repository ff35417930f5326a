package dev.locallambdas.frontdoor;

import dev.locallambdas.exchange.BodySource;
import dev.locallambdas.exchange.BodyTooLargeException;
import dev.locallambdas.exchange.ClientGoneException;
import dev.locallambdas.exchange.Problem;
import io.netty.buffer.ByteBuf;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A request body handed from the event loop (which receives it) to the request's virtual thread
 * (which forwards it). Bounded: when more than {@link #HIGH_WATER} bytes wait, the connection stops
 * reading from the socket until the consumer catches up, so a 100 MB upload never sits in memory.
 */
final class StreamingBody implements BodySource {
  static final int HIGH_WATER = 256 * 1024;
  private static final int LOW_WATER = 64 * 1024;

  private final long declaredLength;
  private final long limit;
  private final Runnable pauseReading;
  private final Runnable resumeReading;
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition available = lock.newCondition();
  private final ArrayDeque<ByteBuffer> chunks = new ArrayDeque<>();
  private long queued;
  private long received;
  private boolean ended;
  private boolean paused;
  private IOException failure;
  private boolean malformed;

  StreamingBody(long declaredLength, long limit, Runnable pauseReading, Runnable resumeReading) {
    this.declaredLength = declaredLength;
    this.limit = limit;
    this.pauseReading = pauseReading;
    this.resumeReading = resumeReading;
  }

  @Override
  public long length() {
    return declaredLength;
  }

  /** Called on the event loop with each piece of the body. Returns false once over the limit. */
  boolean offer(ByteBuf content, boolean last) {
    int n = content.readableBytes();
    lock.lock();
    try {
      if (failure != null) {
        return false;
      }
      received += n;
      if (received > limit) {
        failure = new BodyTooLargeException(limit);
        available.signalAll();
        return false;
      }
      if (n > 0) {
        byte[] copy = new byte[n];
        content.getBytes(content.readerIndex(), copy);
        chunks.add(ByteBuffer.wrap(copy));
        queued += n;
      }
      if (last) {
        ended = true;
      }
      if (queued > HIGH_WATER && !paused) {
        paused = true;
        pauseReading.run();
      }
      available.signalAll();
      return true;
    } finally {
      lock.unlock();
    }
  }

  /** True when the whole body arrived. */
  boolean complete() {
    lock.lock();
    try {
      return ended;
    } finally {
      lock.unlock();
    }
  }

  void fail(IOException e) {
    lock.lock();
    try {
      if (failure == null && !ended) {
        failure = e;
      }
      available.signalAll();
    } finally {
      lock.unlock();
    }
  }

  /** The client sent a body that is not valid HTTP (a bad chunk size, say). */
  void failMalformed(String why) {
    lock.lock();
    try {
      if (failure == null && !ended) {
        failure = new IOException("malformed request body: " + why);
        malformed = true;
      }
      available.signalAll();
    } finally {
      lock.unlock();
    }
  }

  /**
   * The failure that explains why the request could not be served, when the client caused it: 413
   * for a body over the limit, 400 for a malformed one; null otherwise.
   */
  Problem problem(String function) {
    lock.lock();
    try {
      if (failure instanceof BodyTooLargeException e) {
        return ConnectionHandler.tooLarge(function, "the request body is larger than", e.limit());
      }
      if (malformed) {
        return Problem.of(400, "bad-request", "Bad Request")
            .detail("the request body is not valid HTTP/1.1 (" + failure.getMessage() + ")")
            .build();
      }
      return null;
    } finally {
      lock.unlock();
    }
  }

  @Override
  public ByteBuffer next() throws IOException {
    lock.lock();
    try {
      while (chunks.isEmpty()) {
        if (failure != null) {
          throw failure instanceof ClientGoneException c
              ? new ClientGoneException(c.getMessage())
              : failure;
        }
        if (ended) {
          return null;
        }
        try {
          available.await();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new InterruptedIOException("interrupted while reading the request body");
        }
      }
      ByteBuffer b = chunks.poll();
      queued -= b.remaining();
      if (paused && queued < LOW_WATER) {
        paused = false;
        resumeReading.run();
      }
      return b;
    } finally {
      lock.unlock();
    }
  }
}
