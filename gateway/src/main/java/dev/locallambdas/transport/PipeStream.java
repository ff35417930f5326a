package dev.locallambdas.transport;

import java.util.ArrayDeque;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One request in flight on a {@link PipeConnection}: the queue between the connection's reader
 * (which delivers the response frames) and the exchange thread (which takes them). The queue is
 * bounded so that a slow client slows the child down through the socket; while the request body is
 * still being sent the bound is much larger, so that a child answering before it has read the whole
 * body cannot deadlock against the gateway writing that body.
 */
final class PipeStream {
  static final int QUEUE_LIMIT = 16;
  static final int QUEUE_LIMIT_WHILE_SENDING = 512;

  final int id;
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition changed = lock.newCondition();
  private final ArrayDeque<Frame> frames = new ArrayDeque<>(4);
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
      while (!closed
          && failure == null
          && frames.size() >= (sending ? QUEUE_LIMIT_WHILE_SENDING : QUEUE_LIMIT)) {
        changed.await();
      }
      if (closed || failure != null) {
        return;
      }
      frames.add(frame);
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
      Frame f = frames.poll();
      changed.signalAll();
      return f;
    } finally {
      lock.unlock();
    }
  }

  /** The next frame if one is queued, else null. */
  Frame poll() throws TransportException {
    lock.lock();
    try {
      Frame f = frames.poll();
      if (f == null && failure != null) {
        throw failureForThisStream();
      }
      if (f != null) {
        changed.signalAll();
      }
      return f;
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
      changed.signalAll();
    } finally {
      lock.unlock();
    }
  }

  private TransportException failureForThisStream() {
    TransportException.Kind kind = delivered ? failure.kind() : TransportException.Kind.NOT_DELIVERED;
    return new TransportException(kind, failure.getMessage(), failure);
  }
}
