package dev.locallambdas.transport;

import dev.locallambdas.exchange.Headers;
import dev.locallambdas.exchange.Request;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.EventLoop;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Drives one real {@link Call} from a test: opens it on an event loop, feeds the request body,
 * records every listener event (checking they come on that loop and in a legal order) and lets the
 * test wait for the response and for the release. By default it consumes the response body as it
 * arrives; {@link #holdConsumption()} makes it a slow client that consumes only when told.
 */
public final class CallRecorder implements CallListener {
  private final EventLoop loop;
  private final List<String> violations = new ArrayList<>();
  private final ByteArrayOutputStream body = new ByteArrayOutputStream();
  private final CompletableFuture<CallRecorder> finished = new CompletableFuture<>();
  private final CompletableFuture<Outcome> released = new CompletableFuture<>();
  private final List<Boolean> writability = new ArrayList<>();
  private volatile Call call;
  private volatile int status;
  private volatile Headers headers;
  private volatile long contentLength = Long.MIN_VALUE;
  private volatile TransportException failure;
  private volatile boolean ended;
  private volatile boolean hold;
  private volatile long unconsumed;
  private volatile long maxUnconsumed;
  private volatile boolean writable = true;
  private int bodyEvents;

  private CallRecorder(EventLoop loop) {
    this.loop = loop;
  }

  /** Opens {@code request} on {@code endpoint}, on {@code loop}. */
  public static CallRecorder open(
      Endpoint endpoint, Request request, long timeoutMillis, EventLoop loop) throws Exception {
    CallRecorder r = new CallRecorder(loop);
    // Assigned on the loop, before any listener event can come (a fast answer would otherwise
    // reach body() before the test thread has stored the call).
    loop.submit(() -> r.call = endpoint.open(request, timeoutMillis, loop, r))
        .get(10, TimeUnit.SECONDS);
    return r;
  }

  /** Makes this a slow client: response bytes are consumed only by {@link #consumeAll()}. */
  public CallRecorder holdConsumption() {
    hold = true;
    return this;
  }

  /** Sends a piece of the request body (a copy of {@code bytes}). */
  public void send(byte[] bytes, boolean last) throws Exception {
    ByteBuf b = Unpooled.wrappedBuffer(bytes.clone());
    loop.submit(() -> call.body(b, last)).get(10, TimeUnit.SECONDS);
  }

  public void cancel(Call.Cancel why) throws Exception {
    loop.submit(() -> call.cancel(why)).get(10, TimeUnit.SECONDS);
  }

  /** Consumes everything received so far (a slow client catching up). */
  public void consumeAll() throws Exception {
    loop.submit(
            () -> {
              int n = (int) unconsumed;
              unconsumed = 0;
              if (n > 0) {
                call.consumed(n);
              }
            })
        .get(10, TimeUnit.SECONDS);
  }

  /** Waits for end or failure; returns this. */
  public CallRecorder await() throws InterruptedException, TimeoutException {
    try {
      return finished.get(30, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      throw new AssertionError(e);
    }
  }

  public Outcome awaitRelease() throws Exception {
    return released.get(30, TimeUnit.SECONDS);
  }

  public CompletableFuture<Outcome> release() {
    return released;
  }

  /** The call as the endpoint returned it (for tests that look inside a transport's call). */
  public Call call() {
    return call;
  }

  /**
   * The most response bytes this slow client ever held unconsumed: what the transport delivered
   * beyond what was consumed (only counted while {@link #holdConsumption()} is on).
   */
  public long maxUnconsumed() {
    return maxUnconsumed;
  }

  public boolean done() {
    return finished.isDone();
  }

  public int status() {
    return status;
  }

  public Headers headers() {
    return headers;
  }

  public long contentLength() {
    return contentLength;
  }

  public synchronized byte[] bodyBytes() {
    return body.toByteArray();
  }

  public String bodyText() {
    return new String(bodyBytes(), java.nio.charset.StandardCharsets.UTF_8);
  }

  public synchronized int bodyEvents() {
    return bodyEvents;
  }

  public synchronized long received() {
    return body.size();
  }

  public TransportException failure() {
    return failure;
  }

  public boolean ended() {
    return ended;
  }

  public boolean writable() {
    return writable;
  }

  public synchronized List<Boolean> writabilityChanges() {
    return List.copyOf(writability);
  }

  /** Problems seen: events off the loop, out of order, after release. */
  public synchronized List<String> violations() {
    return List.copyOf(violations);
  }

  private synchronized void check(String event) {
    if (!loop.inEventLoop()) {
      violations.add(event + " called off the call's loop on " + Thread.currentThread().getName());
    }
    if (released.isDone()) {
      violations.add(event + " after released");
    }
    if (finished.isDone() && !event.equals("released") && !event.equals("bodyWritable")) {
      violations.add(event + " after the response finished");
    }
  }

  @Override
  public void head(int status, Headers headers, long contentLength) {
    check("head");
    if (this.headers != null) {
      violations.add("second head");
    }
    this.status = status;
    this.headers = headers;
    this.contentLength = contentLength;
  }

  @Override
  public void body(ByteBuf content) {
    check("body");
    try {
      if (headers == null) {
        violations.add("body before head");
      }
      int n = content.readableBytes();
      synchronized (this) {
        bodyEvents++;
        byte[] bytes = new byte[n];
        content.getBytes(content.readerIndex(), bytes);
        body.writeBytes(bytes);
      }
      if (hold) {
        // Only the call's loop writes these (volatile for the test thread's reads): no race.
        long held = unconsumed + n;
        unconsumed = held;
        maxUnconsumed = Math.max(maxUnconsumed, held);
      } else if (n > 0) {
        call.consumed(n);
      }
    } finally {
      content.release();
    }
  }

  @Override
  public void end() {
    check("end");
    if (headers == null) {
      violations.add("end before head");
    }
    ended = true;
    finished.complete(this);
  }

  @Override
  public void failed(TransportException cause) {
    check("failed");
    failure = cause;
    finished.complete(this);
  }

  @Override
  public void bodyWritable(boolean writable) {
    check("bodyWritable");
    synchronized (this) {
      writability.add(writable);
    }
    this.writable = writable;
  }

  @Override
  public void released(Outcome outcome) {
    synchronized (this) {
      if (!loop.inEventLoop()) {
        violations.add("released called off the call's loop");
      }
      if (released.isDone()) {
        violations.add("second released");
      }
    }
    released.complete(outcome);
    if (!finished.isDone()) {
      finished.complete(this); // cancelled calls end here
    }
  }
}
