package dev.locallambdas.sdk;

import static dev.locallambdas.sdk.FakeGateway.WINDOW;
import static dev.locallambdas.sdk.ServerTest.assertProtocolError;
import static dev.locallambdas.sdk.ServerTest.utf8;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The rules of protocol 1.1 (docs/protocol.md section 7), one by one. */
@Timeout(30)
class Protocol11Test {

  private static final int SIZE = 3 * WINDOW + 100;

  @Test
  void version1WelcomeMeansNoDeadlineFieldAndNoCredit() throws Exception {
    Handler handler =
        request ->
            request.method().equals("POST")
                ? Response.of(200, request.bodyBytes())
                : Response.ok(
                    request.remainingMillis().isPresent() + " " + request.deadline().isPresent());
    try (FakeGateway gateway = FakeGateway.start(handler, 1, 1)) {
      gateway.request(1, "GET", "/", true); // a head without deadline_ms
      assertThat(gateway.answer(1).text()).isEqualTo("false false");
      byte[] body = random(4 * WINDOW + 5);
      gateway.request(2, "POST", "/", false);
      gateway.bodyInChunks(2, body);
      assertThat(gateway.answer(2).body.toByteArray()).isEqualTo(body);
      assertThat(gateway.credits).isEmpty();
    }
  }

  @Test
  void version1GatewaySendingCreditIsAProtocolError() throws Exception {
    try (FakeGateway gateway = FakeGateway.start(request -> Response.ok("ok"), 1, 1)) {
      gateway.send(Frame.CREDIT, 0, 1, ByteBuffer.allocate(4).putInt(10).array());
      assertProtocolError(gateway, "unknown frame type 0x31");
    }
  }

  @Test
  void deadlineIsExposedAsRemainingMillisAndAnInstant() throws Exception {
    Handler handler =
        request ->
            Response.ok(
                request.remainingMillis().orElse(-1)
                    + " "
                    + request.deadline().map(d -> Duration.between(Instant.now(), d)).orElse(null));
    try (FakeGateway gateway = FakeGateway.start(handler, 1)) {
      gateway.request(1, "GET", "/", true, 5000);
      String seen = gateway.answer(1).text();
      int space = seen.indexOf(' ');
      assertThat(Long.parseLong(seen.substring(0, space))).isBetween(1L, 5000L);
      assertThat(Duration.parse(seen.substring(space + 1)))
          .isBetween(Duration.ofMillis(1), Duration.ofSeconds(5));
      gateway.request(2, "GET", "/", true, 0);
      assertThat(gateway.answer(2).text()).isEqualTo("-1 null");
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 4})
  void responseWaitsForCreditAndNeverExceedsTheWindow(int concurrency) throws Exception {
    Handler handler =
        request -> request.path().equals("/big") ? Response.of(200, random(SIZE)) : ok();
    try (FakeGateway gateway = FakeGateway.withoutCredit(handler, concurrency)) {
      gateway.request(1, "GET", "/big", true);
      int received = gateway.readBody(1, WINDOW); // exactly one window, then it must wait
      assertThat(received).isEqualTo(WINDOW);
      if (concurrency > 1) {
        // The writer waits: another request is answered with no frame of request 1 first.
        gateway.request(2, "GET", "/hello", true);
        assertThat(gateway.answerAlone(2).text()).isEqualTo("hello");
      }
      gateway.grant(1, 1000); // a little: exactly that much comes
      received += gateway.readBody(1, 1000);
      assertThat(received).isEqualTo(WINDOW + 1000);
      gateway.grant(1, SIZE); // the rest
      assertThat(received + gateway.readBodyToEnd(1)).isEqualTo(SIZE);
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 4})
  void resetWakesAWriterWaitingForCreditAndIsAcknowledged(int concurrency) throws Exception {
    AtomicReference<IOException> seen = new AtomicReference<>();
    Handler handler =
        request ->
            Response.streaming(
                200,
                out -> {
                  try {
                    for (int i = 0; i < 16; i++) {
                      out.write(new byte[16384]);
                    }
                  } catch (IOException e) {
                    seen.set(e);
                    throw e;
                  }
                });
    try (FakeGateway gateway = FakeGateway.withoutCredit(handler, concurrency)) {
      gateway.request(1, "GET", "/", true);
      gateway.readBody(1, WINDOW);
      gateway.reset(1, "client gone");
      FakeGateway.Answer ack = gateway.answer(1); // nothing past the window, then the RESET
      assertThat(ack.reset).isNotNull();
      assertThat(ack.body.size()).isZero();
      assertThat(seen.get()).hasMessageContaining("client gone");
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 4})
  void largeBodiesFlowBothWaysWithCredit(int concurrency) throws Exception {
    Handler handler =
        request ->
            request.path().equals("/stream")
                ? Response.streaming(200, out -> request.body().transferTo(out))
                : Response.of(200, request.bodyBytes());
    byte[] body = random(10 * WINDOW + 3);
    try (FakeGateway gateway = FakeGateway.start(handler, concurrency)) {
      int id = 1;
      for (String path : List.of("/stream", "/all")) {
        gateway.request(id, "POST", path, false);
        int stream = id++;
        Thread sender = sendInBackground(gateway, stream, body, WINDOW / 3);
        assertThat(gateway.answer(stream).body.toByteArray()).isEqualTo(body);
        sender.join();
      }
      assertThat(gateway.credits.size()).isGreaterThan(10);
    }
  }

  @Test
  void requestBodyIsBufferedUpToTheWindowWithoutStallingOtherRequests() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    Handler handler =
        request -> {
          if (request.path().equals("/hold")) {
            release.await();
            return Response.ok(Integer.toString(request.bodyBytes().length));
          }
          return ok();
        };
    try (FakeGateway gateway = FakeGateway.start(handler, 3)) {
      gateway.request(1, "POST", "/hold", false);
      gateway.bodyInChunks(1, new byte[WINDOW], WINDOW / 4, false); // the handler does not read
      gateway.request(2, "GET", "/hello", true);
      assertThat(gateway.answer(2).text()).isEqualTo("hello"); // the reader is not stuck
      assertThat(gateway.credits).isEmpty(); // nothing consumed, nothing credited
      release.countDown();
      // The handler now reads: CREDIT comes as it consumes, so the rest can be sent.
      Thread sender = sendInBackground(gateway, 1, new byte[2 * WINDOW], Frame.CHUNK);
      assertThat(gateway.answer(1).text()).isEqualTo(Integer.toString(3 * WINDOW));
      sender.join();
      assertThat(gateway.credits).isNotEmpty();
      for (long[] credit : gateway.credits) {
        assertThat(credit[0]).isEqualTo(1);
        assertThat(credit[1]).isGreaterThanOrEqualTo(WINDOW / 2);
      }
    }
  }

  @Test
  void resetIsAcknowledgedOnlyAfterTheHandlerReturns() throws Exception {
    CountDownLatch started = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    Handler handler =
        request -> {
          if (request.path().equals("/hold")) {
            started.countDown();
            release.await();
            return Response.ok("late");
          }
          return ok();
        };
    try (FakeGateway gateway = FakeGateway.start(handler, 2)) {
      gateway.request(1, "GET", "/hold", true);
      assertThat(started.await(10, TimeUnit.SECONDS)).isTrue();
      gateway.reset(1, "timeout");
      // Were RESET acknowledged before the handler returned, the acknowledgement would come
      // before this answer: the SDK reads RESET before it reads the next request.
      gateway.request(2, "GET", "/hello", true);
      assertThat(gateway.answerAlone(2).text()).isEqualTo("hello");
      release.countDown();
      FakeGateway.Answer ack = gateway.answer(1);
      assertThat(ack.status).isEqualTo(-1); // its late answer is dropped
      assertThat(ack.reset).isNotNull();
    }
  }

  @Test
  void resetIsAcknowledgedAfterTheHandlerReturnsWithConcurrencyOne() throws Exception {
    // With concurrency 1 the handler's thread reads the socket whenever it reads its body or
    // waits for CREDIT: this handler meets the RESET when, released, it reads its body.
    CountDownLatch started = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    Handler handler =
        request -> {
          started.countDown();
          release.await();
          return Response.ok(new String(request.bodyBytes(), StandardCharsets.UTF_8));
        };
    try (FakeGateway gateway = FakeGateway.start(handler, 1)) {
      gateway.request(1, "POST", "/", false);
      assertThat(started.await(10, TimeUnit.SECONDS)).isTrue();
      gateway.reset(1, "timeout");
      release.countDown();
      FakeGateway.Answer ack = gateway.answer(1);
      assertThat(ack.status).isEqualTo(-1);
      assertThat(ack.reset).isNotNull();
      gateway.request(2, "POST", "/", false);
      gateway.body(2, utf8("next"), true);
      assertThat(gateway.answer(2).text()).isEqualTo("next");
    }
  }

  @Test
  void resetOfARequestNoHandlerTookIsAcknowledgedAtOnce() throws Exception {
    AtomicInteger calls = new AtomicInteger();
    Handler handler =
        request -> {
          calls.incrementAndGet();
          return ok();
        };
    HeldPool pool = new HeldPool();
    try (FakeGateway gateway = FakeGateway.withPool(handler, 2, n -> pool)) {
      gateway.request(1, "GET", "/", true); // the pool holds it: no handler takes it
      pool.awaitHeld(1);
      gateway.reset(1, "queue timeout");
      FakeGateway.Answer ack = gateway.answer(1);
      assertThat(ack.status).isEqualTo(-1);
      assertThat(ack.reset).isNotNull();
      pool.release(); // the held task runs now, and must not call the handler or answer again
      gateway.request(2, "GET", "/", true);
      assertThat(gateway.answerAlone(2).text()).isEqualTo("hello");
      assertThat(calls.get()).isEqualTo(1);
    }
  }

  @ParameterizedTest
  @ValueSource(
      strings = {"credit 0", "credit on 0", "credit of 5 bytes", "window overflow", "big body"})
  void protocolErrors(String violation) throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    Handler handler =
        request -> {
          release.await();
          return ok();
        };
    try (FakeGateway gateway = FakeGateway.start(handler, 2)) {
      gateway.request(1, "POST", "/", false); // a request in flight
      switch (violation) {
        case "credit 0" -> gateway.send(Frame.CREDIT, 0, 1, u32(0));
        case "credit on 0" -> gateway.send(Frame.CREDIT, 0, 0, u32(5));
        case "credit of 5 bytes" -> gateway.send(Frame.CREDIT, 0, 1, new byte[] {0, 0, 0, 1, 0});
        case "window overflow" -> gateway.send(Frame.CREDIT, 0, 1, u32(Integer.MAX_VALUE - 10));
        default -> gateway.body(1, new byte[WINDOW + 1], false);
      }
      assertProtocolError(gateway, violation.equals("big body") ? "window" : "CREDIT");
    } finally {
      release.countDown();
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"trailing byte", "small window", "capability", "no window"})
  void malformedWelcomeIsRefused(String malformation) throws Exception {
    byte[] tail =
        switch (malformation) {
          case "trailing byte" -> ByteBuffer.allocate(9).putInt(WINDOW).putInt(0).array();
          case "small window" -> ByteBuffer.allocate(8).putInt(WINDOW - 1).putInt(0).array();
          case "capability" -> ByteBuffer.allocate(8).putInt(WINDOW).putInt(1).array();
          default -> new byte[0];
        };
    try (FakeGateway gateway =
        FakeGateway.withWelcome(request -> ok(), FakeGateway.welcome(2, 1, tail))) {
      assertThat(gateway.awaitServerEnd()).isInstanceOf(ProtocolException.class);
    }
  }

  @Test
  void connectionLossWakesAWriterWaitingForCredit() throws Exception {
    AtomicReference<IOException> seen = new AtomicReference<>();
    CountDownLatch stopped = new CountDownLatch(1);
    Handler handler =
        request ->
            Response.streaming(
                200,
                out -> {
                  try {
                    out.write(new byte[2 * WINDOW]);
                  } catch (IOException e) {
                    seen.set(e);
                    stopped.countDown();
                    throw e;
                  }
                });
    try (FakeGateway gateway = FakeGateway.withoutCredit(handler, 4)) {
      gateway.request(1, "GET", "/", true);
      gateway.readBody(1, WINDOW);
      gateway.hangUp();
      assertThat(stopped.await(10, TimeUnit.SECONDS)).isTrue();
      assertThat(gateway.awaitServerEnd()).isNull();
    }
  }

  private static Response ok() {
    return Response.ok("hello");
  }

  private static byte[] random(int size) {
    byte[] bytes = new byte[size];
    new Random(size).nextBytes(bytes);
    return bytes;
  }

  private static byte[] u32(int value) {
    return ByteBuffer.allocate(4).putInt(value).array();
  }

  private static Thread sendInBackground(FakeGateway gateway, int id, byte[] body, int chunk) {
    Thread sender =
        new Thread(
            () -> {
              try {
                gateway.bodyInChunks(id, body, chunk, true);
              } catch (IOException e) {
                throw new UncheckedIOException(e);
              }
            });
    sender.start();
    return sender;
  }

  /** A pool that holds the tasks it is given until released, then runs them and all later ones. */
  private static final class HeldPool extends AbstractExecutorService {
    private final ExecutorService threads = Executors.newCachedThreadPool();
    private final List<Runnable> held = new ArrayList<>();
    private boolean released;

    @Override
    public void execute(Runnable task) {
      synchronized (this) {
        if (!released) {
          held.add(task);
          notifyAll();
          return;
        }
      }
      threads.execute(task);
    }

    synchronized void awaitHeld(int count) throws InterruptedException {
      while (held.size() < count) {
        wait();
      }
    }

    void release() {
      List<Runnable> tasks;
      synchronized (this) {
        released = true;
        tasks = new ArrayList<>(held);
      }
      tasks.forEach(threads::execute);
    }

    @Override
    public void shutdown() {
      threads.shutdown();
    }

    @Override
    public List<Runnable> shutdownNow() {
      return threads.shutdownNow();
    }

    @Override
    public boolean isShutdown() {
      return threads.isShutdown();
    }

    @Override
    public boolean isTerminated() {
      return threads.isTerminated();
    }

    @Override
    public boolean awaitTermination(long timeout, TimeUnit unit) throws InterruptedException {
      return threads.awaitTermination(timeout, unit);
    }
  }
}
