package dev.locallambdas.function;

import static org.assertj.core.api.Assertions.assertThat;

import dev.locallambdas.clock.ManualClock;
import dev.locallambdas.manifest.FunctionSpec;
import dev.locallambdas.process.ExitStatus;
import dev.locallambdas.transport.Outcome;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The admin actions on a pool (restart without downtime, drain, start) and the lifecycle events it
 * reports to its observer, against the fake starter and a manual clock: milliseconds, no process.
 */
class PoolActionsTest {
  private final ManualClock clock = new ManualClock();
  private final FunctionPoolTest.FakeStarter starter = new FunctionPoolTest.FakeStarter();
  private final List<String> events = new ArrayList<>();

  private final PoolObserver observer =
      new PoolObserver() {
        @Override
        public void started(String instance, long pid, long spawnNanos, long readyNanos) {
          events.add("started " + instance + " " + spawnNanos + " " + readyNanos);
        }

        @Override
        public void startFailed(String instance, String reason, boolean timedOut) {
          events.add("failed " + instance + (timedOut ? " timeout" : ""));
        }

        @Override
        public void stopped(String instance, StopCause cause, String exit, List<String> output) {
          events.add("stopped " + instance + " " + cause.label());
        }

        @Override
        public void queueTimedOut() {
          events.add("queue timeout");
        }
      };

  private FunctionPool pool(int maxInstances) {
    FunctionSpec spec =
        FunctionSpec.builder("fn")
            .executable("child")
            .route("/fn/*")
            .maxInstances(maxInstances)
            .concurrency(1)
            .queueSize(100)
            .queueTimeout(Duration.ofSeconds(30))
            .startupTimeout(Duration.ofSeconds(10))
            .idleTimeout(Duration.ofMinutes(5))
            .build();
    return new FunctionPool(spec, starter, null, clock, clock, observer);
  }

  private FunctionPoolTest.Recorder acquire(FunctionPool pool) {
    FunctionPoolTest.Recorder r = new FunctionPoolTest.Recorder(null);
    r.ticket = pool.acquire(r);
    return r;
  }

  /** Starts one instance through a request and returns it ready and idle. */
  private Instance warm(FunctionPool pool) {
    FunctionPoolTest.Recorder r = acquire(pool);
    Instance in = starter.started.getLast();
    pool.ready(in);
    r.lease.release(Outcome.OK);
    return in;
  }

  @Test
  void restartServesFromTheOldInstanceUntilItsReplacementIsReady() {
    FunctionPool pool = pool(1);
    Instance old = warm(pool);

    assertThat(pool.restart()).isEqualTo(1);
    assertThat(starter.started).hasSize(2);
    Instance replacement = starter.started.get(1);
    FunctionPoolTest.Recorder during = acquire(pool);
    assertThat(during.lease).as("served by the old instance meanwhile").isNotNull();
    assertThat(during.lease.label()).isEqualTo(old.label);

    pool.ready(replacement);
    assertThat(old.state()).isEqualTo(InstanceState.DRAINING);
    assertThat(starter.stopped).as("busy: stopped only after its request").isEmpty();
    during.lease.release(Outcome.OK);
    assertThat(starter.stopped).containsExactly(old);
    FunctionPoolTest.Recorder after = acquire(pool);
    assertThat(after.lease.label()).isEqualTo(replacement.label);

    pool.exited(old, ExitStatus.of(0));
    assertThat(events).contains("stopped fn#1 admin");
  }

  @Test
  void aReplacementThatFailsToStartLeavesTheOldInstanceServing() {
    FunctionPool pool = pool(1);
    Instance old = warm(pool);
    pool.restart();
    pool.startFailed(starter.started.get(1), "exit 1");
    assertThat(old.state()).isEqualTo(InstanceState.READY);
    assertThat(acquire(pool).lease.label()).isEqualTo(old.label);
    assertThat(events).contains("failed fn#2");
  }

  @Test
  void aDrainedFunctionRefusesRequestsAndStartsNothingUntilStarted() {
    FunctionPool pool = pool(1);
    Instance old = warm(pool);
    pool.drain();
    assertThat(old.state()).isEqualTo(InstanceState.DRAINING);
    assertThat(starter.stopped).containsExactly(old);
    FunctionPoolTest.Recorder refused = acquire(pool);
    assertThat(refused.problem.status()).isEqualTo(503);
    assertThat(refused.problem.type()).isEqualTo("drained");
    assertThat(pool.status().drained()).isTrue();
    pool.exited(old, ExitStatus.of(0));
    assertThat(starter.started).hasSize(1);

    pool.start();
    assertThat(pool.status().drained()).isFalse();
    assertThat(starter.started).hasSize(2);
    pool.ready(starter.started.get(1));
    assertThat(acquire(pool).lease).isNotNull();
  }

  @Test
  void theObserverHearsStartDurationsAndStopsByCause() {
    FunctionPool pool = pool(1);
    FunctionPoolTest.Recorder r = acquire(pool);
    Instance in = starter.started.getFirst();
    clock.advance(Duration.ofMillis(3));
    pool.spawned(in, null, null);
    clock.advance(Duration.ofMillis(40));
    pool.ready(in);
    assertThat(events).containsExactly("started fn#1 3000000 40000000");

    r.lease.release(Outcome.BROKEN);
    pool.exited(in, ExitStatus.of(3));
    assertThat(events).last().isEqualTo("stopped fn#1 crash");

    Instance idle = warm(pool);
    clock.advance(Duration.ofMinutes(6));
    pool.cleanup(clock.nanoTime());
    pool.exited(idle, ExitStatus.of(0));
    assertThat(events).last().isEqualTo("stopped fn#2 idle");
  }

  @Test
  void theObserverHearsStartupTimeouts() {
    FunctionPool pool = pool(1);
    acquire(pool);
    clock.advance(Duration.ofSeconds(11));
    assertThat(events).containsExactly("failed fn#1 timeout");
  }

  @Test
  void theObserverHearsQueueTimeouts() {
    FunctionPool pool = pool(1);
    FunctionPoolTest.Recorder busy = acquire(pool);
    pool.ready(starter.started.getFirst());
    assertThat(busy.lease).isNotNull();
    FunctionPoolTest.Recorder waiting = acquire(pool);
    clock.advance(Duration.ofSeconds(31));
    assertThat(waiting.problem.type()).isEqualTo("queue-timeout");
    assertThat(events).last().isEqualTo("queue timeout");
  }
}
