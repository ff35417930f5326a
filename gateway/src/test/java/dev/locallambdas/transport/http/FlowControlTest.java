package dev.locallambdas.transport.http;

import static dev.locallambdas.transport.http.Fixture.get;
import static dev.locallambdas.transport.http.Fixture.request;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.locallambdas.it.NoLeaks;
import dev.locallambdas.loops.EventLoops;
import dev.locallambdas.transport.CallRecorder;
import dev.locallambdas.transport.Outcome;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.awaitility.core.ConditionFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Backpressure both ways with a real child, without blocking a loop: a slow client stops the
 * transport reading the child's answer, and a child that does not read the request body makes the
 * transport ask the front door to stop sending it.
 */
@ExtendWith({NoLeaks.class, NoBufferLeaks.class})
class FlowControlTest {
  /** What one read adds at most, beyond the limit at which reading stops. */
  private static final int READ = 64 * 1024;

  private static EventLoops loops;

  @TempDir Path runDirectory;
  @TempDir Path logs;
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
  void setUp() throws Exception {
    child = new Fixture(loops, runDirectory, logs);
    child.startEcho();
  }

  @AfterEach
  void tearDown() throws Exception {
    child.close();
  }

  private static ConditionFactory promptly() {
    return await().pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(1));
  }

  private boolean readingHeld(CallRecorder r) throws Exception {
    Exchange x = (Exchange) r.call();
    return child.loopA.submit(x::readingHeld).get(10, TimeUnit.SECONDS);
  }

  @Test
  void aSlowClientStopsTheTransportReadingUntilItConsumes() throws Exception {
    int total = 20 * 1024 * 1024;
    CallRecorder r = child.open(get("/stream?bytes=" + total), child.loopA).holdConsumption();

    promptly().until(() -> readingHeld(r));
    long held = r.received();
    assertThat(held).isBetween((long) Exchange.MAX_UNCONSUMED, Exchange.MAX_UNCONSUMED + 2L * READ);

    while (!r.done()) {
      r.consumeAll();
      promptly().until(() -> r.done() || readingHeld(r));
    }
    assertThat(r.failure()).isNull();
    assertThat(r.awaitRelease()).isEqualTo(Outcome.OK);
    assertThat(r.maxUnconsumed())
        .as("response bytes delivered but not consumed, at most")
        .isLessThanOrEqualTo(Exchange.MAX_UNCONSUMED + 2L * READ);
    byte[] body = r.bodyBytes();
    assertThat(body).hasSize(total);
    for (int i = 0; i < total; i++) {
      if (body[i] != (byte) (i % 251)) {
        throw new AssertionError("byte " + i + " is " + body[i]);
      }
    }
  }

  @Test
  void aChildNotReadingTheBodyTurnsBodyWritableOffAndOnAgain() throws Exception {
    CallRecorder r = child.open(request("POST", "/stall", -1), child.loopA);
    byte[] piece = new byte[64 * 1024];
    long sent = 0;
    while (r.writable()) {
      r.send(piece, false);
      sent += piece.length;
      assertThat(sent).as("bytes sent to a child that reads nothing").isLessThan(512L << 20);
    }
    assertThat(r.writabilityChanges()).containsExactly(false);

    child.send(get("/unstall"), child.loopB);
    await().until(r::writable);
    r.send(new byte[0], true);

    r.await();
    assertThat(r.failure()).isNull();
    assertThat(r.bodyText()).isEqualTo(Long.toString(sent));
    assertThat(r.writabilityChanges()).containsExactly(false, true);
  }
}
