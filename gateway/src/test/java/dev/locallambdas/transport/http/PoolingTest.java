package dev.locallambdas.transport.http;

import static dev.locallambdas.transport.http.Fixture.get;
import static dev.locallambdas.transport.http.Fixture.request;
import static dev.locallambdas.transport.http.Fixture.spec;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.locallambdas.it.NoLeaks;
import dev.locallambdas.loops.EventLoops;
import dev.locallambdas.manifest.FunctionSpec;
import dev.locallambdas.transport.CallRecorder;
import dev.locallambdas.transport.Outcome;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.EventLoop;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Keep-alive connections to a real child: one pool per event loop, last in first out, capped,
 * evicted after the idle time (on a fake clock), dropped when the child closes them, and written
 * with one flush per request.
 */
@ExtendWith({NoLeaks.class, NoBufferLeaks.class})
class PoolingTest {
  private static EventLoops loops;

  @TempDir Path runDirectory;
  @TempDir Path logs;
  private final FakeTime time = new FakeTime();
  private Fixture child;

  @BeforeAll
  static void startLoops() {
    loops = EventLoops.start(2);
  }

  @AfterAll
  static void stopLoops() {
    loops.close();
  }

  @BeforeEach
  void setUp() {
    child = new Fixture(loops, runDirectory, logs);
  }

  @AfterEach
  void tearDown() throws Exception {
    child.close();
  }

  private HttpEndpoint start(UnaryOperator<FunctionSpec.Builder> spec) throws Exception {
    return child.start(spec(spec), new HttpTransport(time, loop -> time), "http_echo_server.py");
  }

  /** Runs {@code task} on {@code loop} and returns its result (the pools live on their loops). */
  private static <T> T on(EventLoop loop, Callable<T> task) throws Exception {
    return loop.submit(task).get(10, TimeUnit.SECONDS);
  }

  private static String port(CallRecorder r) {
    return r.headers().get("x-client-port");
  }

  /** A call on {@code loop} that holds its connection until {@link #finish} sends the body end. */
  private CallRecorder holding(EventLoop loop) throws Exception {
    CallRecorder r = child.open(request("POST", "/echo/held", -1), loop);
    r.send("x".getBytes(StandardCharsets.US_ASCII), false);
    return r;
  }

  private static CallRecorder finish(CallRecorder r) throws Exception {
    r.send(new byte[0], true);
    r.await();
    assertThat(r.awaitRelease()).isEqualTo(Outcome.OK);
    return r;
  }

  @Test
  void aCallReusesTheIdleConnectionOfItsOwnLoop() throws Exception {
    start(b -> b);
    String first = port(child.send(get("/echo/1"), child.loopA));

    assertThat(port(child.send(get("/echo/2"), child.loopA))).isEqualTo(first);
    assertThat(child.endpoint.openConnections()).isEqualTo(1);
  }

  @Test
  void aCallOnAnotherLoopOpensAConnectionOfItsOwn() throws Exception {
    start(b -> b);
    String onA = port(child.send(get("/echo/a"), child.loopA));
    String onB = port(child.send(get("/echo/b"), child.loopB));

    assertThat(onB).isNotEqualTo(onA);
    assertThat(port(child.send(get("/echo/a2"), child.loopA))).isEqualTo(onA);
    assertThat(port(child.send(get("/echo/b2"), child.loopB))).isEqualTo(onB);
    assertThat(child.endpoint.openConnections()).isEqualTo(2);
    assertThat(on(child.loopA, () -> child.endpoint.pool(child.loopA).idleCount())).isEqualTo(1);
    assertThat(on(child.loopB, () -> child.endpoint.pool(child.loopB).idleCount())).isEqualTo(1);
  }

  @Test
  void reusesTheMostRecentlyReleasedConnectionFirst() throws Exception {
    start(b -> b);
    CallRecorder older = holding(child.loopA);
    CallRecorder newer = holding(child.loopA);
    finish(older);
    String last = port(finish(newer));

    assertThat(port(child.send(get("/echo/next"), child.loopA))).isEqualTo(last);
  }

  @Test
  void keepsAtMostConcurrencyIdleConnectionsPerLoop() throws Exception {
    start(b -> b.concurrency(1));
    CallRecorder one = holding(child.loopA);
    CallRecorder two = holding(child.loopA);
    assertThat(child.endpoint.openConnections()).isEqualTo(2);
    finish(one);
    finish(two);

    await().until(() -> child.endpoint.openConnections() == 1);
    assertThat(on(child.loopA, () -> child.endpoint.pool(child.loopA).idleCount())).isEqualTo(1);
  }

  @Test
  void closesConnectionsIdleLongerThanTheIdleTimeOldestFirst() throws Exception {
    start(b -> b);
    CallRecorder older = holding(child.loopA);
    CallRecorder newer = holding(child.loopA);
    finish(older);
    time.advance(Duration.ofSeconds(1));
    String kept = port(finish(newer));
    assertThat(time.pending()).as("one timer for the pool, not one per connection").isEqualTo(1);

    time.advance(HttpEndpoint.IDLE_TIME.minusSeconds(1).minusNanos(1));
    on(child.loopA, () -> null); // the timer's work, if any, has run on the loop
    assertThat(child.endpoint.openConnections()).isEqualTo(2);

    time.advance(Duration.ofNanos(1));
    await().until(() -> child.endpoint.openConnections() == 1);
    assertThat(on(child.loopA, () -> port(child.endpoint.pool(child.loopA).newestIdle())))
        .isEqualTo(kept);

    time.advance(Duration.ofSeconds(1));
    await().until(() -> child.endpoint.openConnections() == 0);
    assertThat(time.pending()).isZero();
  }

  private static String port(ChildConnection c) {
    return Integer.toString(((InetSocketAddress) c.channel().localAddress()).getPort());
  }

  @Test
  void aRequestCostsNoTimer() throws Exception {
    start(b -> b);
    for (int i = 0; i < 5; i++) {
      child.send(get("/echo/" + i), child.loopA);
    }
    assertThat(time.pending()).isEqualTo(1);
  }

  @Test
  void dropsAnIdleConnectionTheChildCloses() throws Exception {
    start(b -> b);
    child.send(get("/then-close"), child.loopA);

    await().until(() -> child.endpoint.openConnections() == 0);
    assertThat(on(child.loopA, () -> child.endpoint.pool(child.loopA).idleCount())).isZero();
  }

  /** Counts the flushes on the idle connection of loop A. */
  private AtomicInteger countFlushes() throws Exception {
    AtomicInteger flushes = new AtomicInteger();
    on(
        child.loopA,
        () ->
            child
                .endpoint
                .pool(child.loopA)
                .newestIdle()
                .channel()
                .pipeline()
                .addFirst(
                    new ChannelOutboundHandlerAdapter() {
                      @Override
                      public void flush(ChannelHandlerContext ctx) {
                        flushes.incrementAndGet();
                        ctx.flush();
                      }
                    }));
    return flushes;
  }

  @Test
  void aRequestWithoutBodyLeavesInOneFlush() throws Exception {
    start(b -> b);
    child.send(get("/echo/warm"), child.loopA);
    AtomicInteger flushes = countFlushes();

    child.send(get("/echo/one"), child.loopA);
    assertThat(flushes).hasValue(1);
  }

  @Test
  void aRequestAndTheBodyThatCameWithItLeaveInOneFlush() throws Exception {
    start(b -> b);
    child.send(get("/echo/warm"), child.loopA);
    AtomicInteger flushes = countFlushes();

    Transcript t = new Transcript();
    on(
        child.loopA,
        () -> {
          t.call = child.endpoint.open(request("POST", "/echo/p", 2), 0, child.loopA, t);
          t.call.body(Unpooled.copiedBuffer("hi", StandardCharsets.US_ASCII), true);
          return null;
        });
    assertThat(t.done.get(10, TimeUnit.SECONDS)).isEqualTo(Outcome.OK);
    assertThat(t.body.toString(StandardCharsets.US_ASCII)).isEqualTo("hi");
    assertThat(flushes).hasValue(1);
  }
}
