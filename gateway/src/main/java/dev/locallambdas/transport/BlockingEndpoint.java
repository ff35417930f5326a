package dev.locallambdas.transport;

import dev.locallambdas.exchange.BodySource;
import dev.locallambdas.exchange.ClientGoneException;
import dev.locallambdas.exchange.Headers;
import dev.locallambdas.exchange.Request;
import dev.locallambdas.exchange.ResponseSink;
import dev.locallambdas.transport.TransportException.Kind;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.EventLoop;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedByInterruptException;
import java.util.ArrayDeque;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * An endpoint whose protocol is written as blocking code (the original project's JSON protocols):
 * each call runs {@link #exchange} on a virtual thread of its own, fed by a request body that the
 * event loop fills and answering through a sink that hands each piece back to the loop. Both
 * directions are bounded, so a slow client or a slow child holds at most a few hundred KiB here.
 * Cancelling interrupts the thread: blocking I/O has no other way to stop.
 */
public abstract class BlockingEndpoint implements Endpoint {
  private static final Logger LOG = Logger.getLogger("dev.locallambdas.transport");

  /** Request body bytes waiting for the exchange thread before the client is asked to wait. */
  static final int BODY_HIGH_WATER = 256 * 1024;

  /** Response bytes not yet written to the client before the exchange thread waits. */
  static final int RESPONSE_HIGH_WATER = 256 * 1024;

  /**
   * Sends one request and streams the response into {@code sink}, on the call's own virtual thread.
   * Throws TransportException for child-side failures; an interrupt means the call was cancelled.
   */
  protected abstract void exchange(Request request, BodySource body, ResponseSink sink)
      throws IOException;

  @Override
  public EventLoop loop() {
    return null;
  }

  @Override
  public Call open(Request request, long timeoutMillis, EventLoop loop, CallListener listener) {
    Threaded call = new Threaded(request, loop, listener);
    Thread.ofVirtual().name("call-" + request.method()).start(call::run);
    return call;
  }

  /** One call: the loop's side (Call) and the thread's side (BodySource and ResponseSink). */
  private final class Threaded implements Call, BodySource, ResponseSink {
    private final Request request;
    private final EventLoop loop;
    private final CallListener listener;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final ArrayDeque<ByteBuf> pieces = new ArrayDeque<>();
    private long queued;
    private boolean ended;
    private boolean bodyPaused;
    private long unconsumed;
    private Cancel cancelled;
    private Thread thread;
    private boolean committed;

    /** Events for the loop, in order; one task drains them (guarded by lock). */
    private final ArrayDeque<Runnable> mailbox = new ArrayDeque<>();

    private boolean drainScheduled;

    Threaded(Request request, EventLoop loop, CallListener listener) {
      this.request = request;
      this.loop = loop;
      this.listener = listener;
      this.ended = !request.hasBody();
    }

    // -------------------------------------------------------------- the loop's side

    @Override
    public void body(ByteBuf content, boolean last) {
      boolean pause;
      lock.lock();
      try {
        if (cancelled != null) {
          content.release();
          return;
        }
        if (content.isReadable()) {
          pieces.add(content);
          queued += content.readableBytes();
        } else {
          content.release();
        }
        ended |= last;
        pause = !bodyPaused && queued > BODY_HIGH_WATER;
        bodyPaused |= pause;
        changed.signalAll();
      } finally {
        lock.unlock();
      }
      if (pause) {
        listener.bodyWritable(false);
      }
    }

    @Override
    public void consumed(int bytes) {
      lock.lock();
      try {
        unconsumed -= bytes;
        changed.signalAll();
      } finally {
        lock.unlock();
      }
    }

    @Override
    public void cancel(Cancel why) {
      Thread t;
      lock.lock();
      try {
        if (cancelled == Cancel.TIMEOUT || (cancelled != null && why != Cancel.TIMEOUT)) {
          return;
        }
        cancelled = why;
        t = thread;
        for (ByteBuf b : pieces) {
          b.release();
        }
        pieces.clear();
        changed.signalAll();
      } finally {
        lock.unlock();
      }
      if (t != null) {
        t.interrupt();
      }
    }

    private void toLoop(Runnable event) {
      post(
          () -> {
            if (cancelled == null) {
              event.run();
            }
          });
    }

    /**
     * Hands an event to the loop. Events posted while a drain is pending ride along with it: a
     * whole answer (head, body, end, release), posted within microseconds, wakes the loop once
     * rather than four times — each wake-up is a cross-thread hand-off, the dominant cost of a
     * small call on a busy machine.
     */
    private void post(Runnable event) {
      boolean schedule;
      lock.lock();
      try {
        mailbox.add(event);
        schedule = !drainScheduled;
        drainScheduled = true;
      } finally {
        lock.unlock();
      }
      if (schedule) {
        loop.execute(this::drain);
      }
    }

    private void drain() {
      while (true) {
        Runnable event;
        lock.lock();
        try {
          event = mailbox.poll();
          if (event == null) {
            drainScheduled = false;
            return;
          }
        } finally {
          lock.unlock();
        }
        try {
          event.run();
        } catch (RuntimeException e) {
          // As the loop would for a task of its own: logged, and the events after it still run.
          LOG.log(Level.WARNING, "a call's event failed on the loop", e);
        }
      }
    }

    // -------------------------------------------------------------- the thread's side

    void run() {
      lock.lock();
      try {
        thread = Thread.currentThread();
        if (cancelled != null) {
          thread.interrupt();
        }
      } finally {
        lock.unlock();
      }
      Outcome outcome = Outcome.OK;
      try {
        exchange(request, this, this);
      } catch (TransportException e) {
        outcome = e.kind().breaksInstance() ? Outcome.BROKEN : Outcome.FAILED;
        toLoop(() -> listener.failed(e));
      } catch (InterruptedIOException | ClosedByInterruptException | ClientGoneException e) {
        outcome = Outcome.FAILED;
      } catch (IOException e) {
        outcome = Outcome.FAILED;
        TransportException te =
            new TransportException(
                Kind.CHILD_FAILED, e.getMessage() != null ? e.getMessage() : e.toString(), e);
        toLoop(() -> listener.failed(te));
      } catch (RuntimeException e) {
        outcome = Outcome.BROKEN;
        TransportException te =
            new TransportException(Kind.CHILD_FAILED, "the call failed in the gateway: " + e, e);
        toLoop(() -> listener.failed(te));
      } finally {
        Thread.interrupted(); // a cancel may have landed after the exchange ended
      }
      Outcome o;
      lock.lock();
      try {
        o =
            cancelled == Cancel.TIMEOUT
                ? Outcome.HUNG
                : cancelled != null ? Outcome.FAILED : outcome;
        for (ByteBuf b : pieces) {
          b.release();
        }
        pieces.clear();
      } finally {
        lock.unlock();
      }
      post(() -> listener.released(o));
    }

    @Override
    public long length() {
      return request.bodyLength();
    }

    @Override
    public ByteBuffer next() throws IOException {
      ByteBuf b;
      boolean resume = false;
      lock.lock();
      try {
        while (pieces.isEmpty()) {
          if (cancelled != null) {
            throw new InterruptedIOException("call cancelled");
          }
          if (ended) {
            return null;
          }
          awaitChange();
        }
        b = pieces.poll();
        queued -= b.readableBytes();
        if (bodyPaused && queued < BODY_HIGH_WATER / 4) {
          bodyPaused = false;
          resume = true;
        }
      } finally {
        lock.unlock();
      }
      if (resume) {
        toLoop(() -> listener.bodyWritable(true));
      }
      try {
        ByteBuffer copy = ByteBuffer.allocate(b.readableBytes());
        b.readBytes(copy);
        return copy.flip();
      } finally {
        b.release();
      }
    }

    // Every caller re-checks its condition in a loop around this.
    @SuppressWarnings("WaitNotInLoop")
    private void awaitChange() throws InterruptedIOException {
      try {
        changed.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new InterruptedIOException("call cancelled");
      }
    }

    @Override
    public void head(int status, Headers headers, long contentLength) throws IOException {
      checkCancelled();
      committed = true;
      toLoop(() -> listener.head(status, headers, contentLength));
    }

    @Override
    public void body(ByteBuffer chunk) throws IOException {
      int n = chunk.remaining();
      if (n == 0) {
        return;
      }
      lock.lock();
      try {
        while (unconsumed > RESPONSE_HIGH_WATER && cancelled == null) {
          awaitChange();
        }
        checkCancelled();
        unconsumed += n;
      } finally {
        lock.unlock();
      }
      ByteBuf copy = Unpooled.copiedBuffer(chunk);
      post(
          () -> {
            if (cancelled == null) {
              listener.body(copy);
            } else {
              copy.release();
            }
          });
    }

    @Override
    public void end() throws IOException {
      checkCancelled();
      toLoop(listener::end);
    }

    @Override
    public boolean committed() {
      return committed;
    }

    private void checkCancelled() throws InterruptedIOException {
      if (cancelled != null) {
        throw new InterruptedIOException("call cancelled");
      }
    }
  }
}
