package dev.locallambdas.transport;

import java.util.ArrayDeque;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One request in flight on a {@link PipeConnection}: the queue between the connection's reader
 * (which delivers the response frames) and the exchange thread (which takes them). The queue is
 * bounded (1 MiB of payload) so that a slow client slows the child down through the socket; while
 * the request body is still being sent the bound is 16 MiB, so that a child answering before it has
 * read the whole body does not deadlock against the gateway writing that body.
 */
final class PipeStream {
  /** Queued payload bytes beyond which the reader waits (a frame is always let in when empty). */
  static final long QUEUE_LIMIT = 1 << 20;

  static final long QUEUE_LIMIT_WHILE_SENDING = 16 << 20;

  /** Counted per frame on top of its payload, so that empty frames cannot pile up without bound. */
  private static final int FRAME_COST = 64;

  final int id;
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition changed = lock.newCondition();
  private final ArrayDeque<Frame> frames = new ArrayDeque<>(4);
  private long queuedBytes;
  private TransportException failure;
  private boolean closed;
  private volatile boolean sending = true;

  /** Set once a byte of this request reached the socket; decides NOT_DELIVERED vs CHILD_FAILED. */
  volatile boolean delivered;

  /** Reader-side protocol state, guarded by the connection's stream table lock. */
  boolean headSeen;

  PipeStream(int id) {
    this.id = id;
  }

  /** Called by the reader; blocks while the queue is full, drops the frame after {@link #close}. */
  void deliver(Frame frame) throws InterruptedException {
    lock.lock();
    try {
      long cost = cost(frame);
      while (!closed
          && failure == null
          && !frames.isEmpty()
          && queuedBytes + cost > (sending ? QUEUE_LIMIT_WHILE_SENDING : QUEUE_LIMIT)) {
        changed.await();
      }
      if (closed || failure != null) {
        return;
      }
      frames.add(frame);
      queuedBytes += cost;
      changed.signalAll();
    } finally {
      lock.unlock();
    }
  }

  /** The next frame; frames delivered before a failure are still handed out first. */
  Frame take() throws InterruptedException, TransportException {
    lock.lock();
    try {
      while (frames.isEmpty()) {
        if (failure != null) {
          throw failureForThisStream();
        }
        changed.await();
      }
      return dequeue();
    } finally {
      lock.unlock();
    }
  }

  /** The next frame if one is queued, else null. */
  Frame poll() throws TransportException {
    lock.lock();
    try {
      if (frames.isEmpty()) {
        if (failure != null) {
          throw failureForThisStream();
        }
        return null;
      }
      return dequeue();
    } finally {
      lock.unlock();
    }
  }

  void requestSent() {
    sending = false;
  }

  void fail(TransportException cause) {
    lock.lock();
    try {
      if (failure == null) {
        failure = cause;
      }
      changed.signalAll();
    } finally {
      lock.unlock();
    }
  }

  /** The exchange is over: free the queue and release a reader blocked on it. */
  void close() {
    lock.lock();
    try {
      closed = true;
      frames.clear();
      queuedBytes = 0;
      changed.signalAll();
    } finally {
      lock.unlock();
    }
  }

  private Frame dequeue() {
    Frame f = frames.poll();
    queuedBytes -= cost(f);
    changed.signalAll();
    return f;
  }

  private static long cost(Frame f) {
    return (long) f.payload().capacity() + FRAME_COST;
  }

  private TransportException failureForThisStream() {
    TransportException.Kind kind =
        delivered ? failure.kind() : TransportException.Kind.NOT_DELIVERED;
    return new TransportException(kind, failure.getMessage(), failure);
  }
}
