package dev.locallambdas.function;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.locallambdas.clock.ManualClock;
import dev.locallambdas.exchange.Problem;
import dev.locallambdas.manifest.FunctionSpec;
import dev.locallambdas.process.ExitStatus;
import dev.locallambdas.transport.Outcome;
import io.netty.channel.DefaultEventLoop;
import io.netty.channel.EventLoop;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The instance pool as a pure state machine: a fake starter that only records, waiters that only
 * record, and a manual clock for every timeout. No process, socket or thread; each test runs in
 * milliseconds.
 */
class FunctionPoolTest {
  private final ManualClock clock = new ManualClock();
  private final FakeStarter starter = new FakeStarter();
  private final List<EventLoop> loops = new ArrayList<>();

  @AfterEach
  void stopLoops() {
    loops.forEach(EventLoop::shutdownGracefully);
  }

  /** Records what the pool asked of it; the test plays the child's part. */
  static final class FakeStarter implements Starter {
    final List<Instance> started = new ArrayList<>();
    final List<Instance> stopped = new ArrayList<>();
    final List<Instance> stoppedHung = new ArrayList<>();
    final List<Instance> killed = new ArrayList<>();

    @Override
    public void start(FunctionPool pool, Instance in) {
      started.add(in);
    }

    @Override
    public void stop(FunctionPool pool, Instance in, boolean hung) {
      (hung ? stoppedHung : stopped).add(in);
    }

    @Override
    public void kill(Instance in) {
      killed.add(in);
    }
  }

  /** A request waiting for a slot, remembering what it was told. */
  static final class Recorder implements Waiter {
    private final EventLoop loop;
    Lease lease;
    Problem problem;
    int told;
    Ticket ticket;

    Recorder(EventLoop loop) {
      this.loop = loop;
    }

    @Override
    public EventLoop loop() {
      return loop;
    }

    @Override
    public void granted(Lease lease) {
      this.lease = lease;
      told++;
    }

    @Override
    public void refused(Problem problem) {
      this.problem = problem;
      told++;
    }
  }

  private FunctionPool pool(UnaryOperator<FunctionSpec.Builder> settings) {
    FunctionSpec spec =
        settings
            .apply(
                FunctionSpec.builder("fn")
                    .executable("child")
                    .route("/fn/*")
                    .maxInstances(1)
                    .concurrency(1)
                    .queueSize(100)
                    .queueTimeout(Duration.ofSeconds(30))
                    .startupTimeout(Duration.ofSeconds(10))
                    .idleTimeout(Duration.ofMinutes(5)))
            .build();
    return new FunctionPool(spec, starter, null, clock, clock);
  }

  private Recorder acquire(FunctionPool pool) {
    return acquire(pool, null);
  }

  private Recorder acquire(FunctionPool pool, EventLoop loop) {
    Recorder r = new Recorder(loop);
    r.ticket = pool.acquire(r);
    return r;
  }

  private EventLoop loop() {
    EventLoop l = new DefaultEventLoop();
    loops.add(l);
    return l;
  }

  private static ExitStatus exit(int code) {
    return ExitStatus.of(code);
  }

  @Test
  void aColdRequestStartsAnInstanceAndGetsTheSlotWhenItIsReady() {
    FunctionPool pool = pool(b -> b);
    Recorder r = acquire(pool);
    assertThat(r.told).isZero();
    assertThat(starter.started).hasSize(1);

    pool.ready(starter.started.get(0));
    assertThat(r.lease).isNotNull();
    assertThat(r.lease.cold()).isTrue();
    assertThat(pool.instances())
        .extracting(InstanceView::state)
        .containsExactly(InstanceState.READY);

    r.lease.release(Outcome.OK);
    Recorder warm = acquire(pool);
    assertThat(warm.lease).isNotNull();
    assertThat(warm.lease.cold()).isFalse();
    assertThat(starter.started).hasSize(1);
  }

  @Test
  void fiftyColdRequestsStartOneProcessWhenMaxInstancesIsOne() {
    FunctionPool pool = pool(b -> b);
    List<Recorder> waiting = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      waiting.add(acquire(pool));
    }
    assertThat(starter.started).hasSize(1);
    assertThat(pool.waiting()).isEqualTo(50);
    assertThat(waiting).allMatch(r -> r.told == 0);
  }

  @Test
  void demandBeyondWhatIsStartingStartsMoreUpToTheMaximum() {
    FunctionPool pool = pool(b -> b.maxInstances(4).concurrency(2));
    for (int i = 0; i < 5; i++) {
      acquire(pool);
    }
    // 5 waiting at concurrency 2: three instances cover them, the maximum of 4 is not needed.
    assertThat(starter.started).hasSize(3);
  }

  @Test
  void aFreedSlotGoesToTheOldestWaiterFirst() {
    FunctionPool pool = pool(b -> b);
    Recorder first = acquire(pool);
    Recorder second = acquire(pool);
    Recorder third = acquire(pool);
    pool.ready(starter.started.get(0));
    assertThat(first.lease).isNotNull();
    assertThat(second.told).isZero();

    first.lease.release(Outcome.OK);
    assertThat(second.lease).isNotNull();
    assertThat(third.told).isZero();
    second.lease.release(Outcome.OK);
    assertThat(third.lease).isNotNull();
  }

  @Test
  void aWaiterIsRefusedWhenTheQueueTimeoutPasses() {
    FunctionPool pool = pool(b -> b.queueTimeout(Duration.ofSeconds(2)));
    Recorder holder = acquire(pool);
    pool.ready(starter.started.get(0));
    Recorder waiter = acquire(pool);

    clock.advance(Duration.ofMillis(1999));
    assertThat(waiter.told).isZero();
    clock.advance(Duration.ofMillis(1));
    assertThat(waiter.problem.type()).isEqualTo("queue-timeout");
    assertThat(waiter.problem.status()).isEqualTo(503);
    assertThat(pool.waiting()).isZero();

    holder.lease.release(Outcome.OK); // the freed slot goes to nobody
    assertThat(waiter.told).isEqualTo(1);
  }

  @Test
  void aFullQueueRefusesAtOnceWithRetryAfter() {
    FunctionPool pool = pool(b -> b.queueSize(2));
    acquire(pool);
    acquire(pool);
    Recorder third = acquire(pool);
    assertThat(third.problem.type()).isEqualTo("overloaded");
    assertThat(third.problem.retryAfterSeconds()).isEqualTo(1);
  }

  @Test
  void aCancelledWaiterIsToldNothingAndItsTurnPasses() {
    FunctionPool pool = pool(b -> b);
    Recorder holder = acquire(pool);
    pool.ready(starter.started.get(0));
    Recorder gone = acquire(pool);
    Recorder next = acquire(pool);
    gone.ticket.cancel();
    assertThat(pool.waiting()).isEqualTo(1);

    holder.lease.release(Outcome.OK);
    assertThat(gone.told).isZero();
    assertThat(next.lease).isNotNull();
    clock.advance(Duration.ofMinutes(1)); // its queue timer was stopped too
    assertThat(gone.told).isZero();
  }

  @Test
  void aSlotReturnedUnusedCountsNoRequest() {
    FunctionPool pool = pool(b -> b);
    Recorder r = acquire(pool);
    pool.ready(starter.started.get(0));
    r.lease.returnUnused();
    r.lease.release(Outcome.OK); // a second release is ignored
    assertThat(pool.instances()).extracting(InstanceView::served).containsExactly(0);
    assertThat(pool.inFlight()).isZero();
  }

  @Test
  void aStartThatTimesOutIsKilledAndItsWaitersAreToldWhy() {
    FunctionPool pool = pool(b -> b.startupTimeout(Duration.ofSeconds(10)));
    Recorder r = acquire(pool);
    clock.advance(Duration.ofSeconds(10));
    assertThat(r.problem.type()).isEqualTo("start-failed");
    assertThat(r.problem.detail()).contains("startup_timeout of 10s");
    assertThat(starter.killed).hasSize(1);
    assertThat(pool.instances()).isEmpty();

    pool.ready(starter.started.get(0)); // the child's HELLO comes too late: ignored
    assertThat(pool.instances()).isEmpty();
  }

  @Test
  void theSecondFailureInARowOpensTheBackOff() {
    FunctionPool pool = pool(b -> b);
    Recorder first = acquire(pool);
    pool.startFailed(starter.started.get(0), "exited");
    assertThat(first.problem.type()).isEqualTo("start-failed");

    Recorder second = acquire(pool); // the first failure retries at once
    assertThat(starter.started).hasSize(2);
    pool.startFailed(starter.started.get(1), "exited again");
    assertThat(second.problem.type()).isEqualTo("start-failed");

    Recorder third = acquire(pool);
    assertThat(third.problem.type()).isEqualTo("crash-loop");
    assertThat(third.problem.retryAfterSeconds()).isEqualTo(1);
    assertThat(third.problem.detail()).contains("exited again");
    assertThat(starter.started).hasSize(2);

    clock.advance(Duration.ofMillis(301)); // past 250 ms + 20 % jitter
    Recorder fourth = acquire(pool);
    assertThat(fourth.told).isZero();
    assertThat(starter.started).hasSize(3);
    pool.ready(starter.started.get(2));
    fourth.lease.release(Outcome.OK); // a success resets the count

    Instance in = starter.started.get(2);
    pool.exited(in, exit(1));
    Recorder fifth = acquire(pool); // one crash after a success restarts at once
    assertThat(fifth.told).isZero();
  }

  @Test
  void anInstanceThatBrokeWhileServingIsStoppedAndItsDeathCounts() {
    FunctionPool pool = pool(b -> b);
    Recorder r = acquire(pool);
    Instance in = starter.started.get(0);
    pool.ready(in);
    r.lease.release(Outcome.BROKEN);
    assertThat(starter.stopped).containsExactly(in);
    pool.exited(in, exit(3)); // exits because the gateway stopped it, but it broke first
    assertThat(pool.instances()).isEmpty();

    Recorder again = acquire(pool);
    pool.startFailed(starter.started.get(1), "no");
    assertThat(again.problem.type()).isEqualTo("start-failed");
    assertThat(acquire(pool).problem.type()).isEqualTo("crash-loop");
  }

  @Test
  void aHungInstanceIsStoppedWithoutCountingAsACrash() {
    FunctionPool pool = pool(b -> b);
    Recorder r = acquire(pool);
    Instance in = starter.started.get(0);
    pool.ready(in);
    r.lease.release(Outcome.HUNG);
    assertThat(starter.stoppedHung).containsExactly(in);
    pool.exited(in, exit(143));
    acquire(pool);
    pool.startFailed(starter.started.get(1), "no"); // the first failure of a run
    assertThat(acquire(pool).told).isZero(); // no back-off yet
  }

  @Test
  void anInstanceIsRecycledAfterMaxRequests() {
    FunctionPool pool = pool(b -> b.maxRequestsPerInstance(2));
    Recorder a = acquire(pool);
    Instance in = starter.started.get(0);
    pool.ready(in);
    a.lease.release(Outcome.OK);
    Recorder b = acquire(pool);
    assertThat(b.lease).isNotNull();
    Recorder c = acquire(pool); // waits: the instance is at its concurrency
    b.lease.release(Outcome.OK);
    assertThat(starter.stopped).containsExactly(in);
    assertThat(starter.started).hasSize(2); // the waiter gets a fresh instance
    pool.exited(in, exit(0));
    pool.ready(starter.started.get(1));
    assertThat(c.lease).isNotNull();
  }

  @Test
  void idleInstancesStopAfterTheIdleTimeoutButNotBelowTheMinimum() {
    FunctionPool pool =
        pool(b -> b.maxInstances(2).minInstances(1).idleTimeout(Duration.ofMinutes(5)));
    assertThat(starter.started).isEmpty(); // the supervisor asks for the minimum
    pool.ensureMinimum();
    pool.ready(starter.started.get(0));
    Recorder a = acquire(pool);
    Recorder b = acquire(pool);
    pool.ready(starter.started.get(1));
    a.lease.release(Outcome.OK);
    b.lease.release(Outcome.OK);

    assertThat(pool.cleanup(clock.nanoTime())).isEqualTo(Duration.ofMinutes(5).toNanos());
    clock.advance(Duration.ofMinutes(5));
    pool.cleanup(clock.nanoTime());
    assertThat(starter.stopped).hasSize(1);
    assertThat(pool.instances())
        .extracting(InstanceView::state)
        .containsExactlyInAnyOrder(InstanceState.READY, InstanceState.DRAINING);
  }

  @Test
  void aRequestPrefersAnInstanceOnItsOwnLoop() {
    FunctionPool pool = pool(b -> b.maxInstances(2));
    EventLoop one = loop();
    EventLoop two = loop();
    Recorder a = acquire(pool, one);
    Recorder b = acquire(pool, two);
    assertThat(starter.started).extracting(in -> in.loop).containsExactly(one, two);
    pool.ready(starter.started.get(0));
    pool.ready(starter.started.get(1));
    Instance onTwo = starter.started.get(1);
    a.lease.release(Outcome.OK);
    b.lease.release(Outcome.OK);

    Recorder fromTwo = acquire(pool, two);
    assertThat(fromTwo.lease.instance).isSameAs(onTwo);
    Recorder fromOne = acquire(pool, one);
    assertThat(fromOne.lease.instance).isSameAs(starter.started.get(0));
  }

  @Test
  void aFreedSlotPrefersAWaiterOnTheInstancesLoopButNotForever() {
    FunctionPool pool = pool(b -> b);
    EventLoop one = loop();
    EventLoop two = loop();
    Recorder holder = acquire(pool, two);
    pool.ready(starter.started.get(0)); // the instance lives on loop two
    Recorder oldest = acquire(pool, one);
    List<Recorder> sameLoop = new ArrayList<>();
    for (int i = 0; i < FunctionPool.MAX_BYPASS + 1; i++) {
      sameLoop.add(acquire(pool, two));
    }
    Lease lease = holder.lease;
    for (int i = 0; i < FunctionPool.MAX_BYPASS; i++) {
      lease.release(Outcome.OK);
      assertThat(sameLoop.get(i).lease).as("same-loop waiter %d goes ahead", i).isNotNull();
      assertThat(oldest.told).isZero();
      lease = sameLoop.get(i).lease;
    }
    lease.release(Outcome.OK);
    assertThat(oldest.lease)
        .as("passed over %d times, then served", FunctionPool.MAX_BYPASS)
        .isNotNull();
    assertThat(sameLoop.get(FunctionPool.MAX_BYPASS).told).isZero();
  }

  @Test
  void closingRefusesWaitersAndNewRequests() {
    FunctionPool pool = pool(b -> b);
    Recorder waiting = acquire(pool);
    pool.close();
    assertThat(waiting.problem.type()).isEqualTo("shutting-down");
    assertThat(acquire(pool).problem.type()).isEqualTo("shutting-down");
  }

  @Test
  void everyWaiterIsToldExactlyOnce() {
    FunctionPool pool = pool(b -> b.queueTimeout(Duration.ofSeconds(1)));
    List<Recorder> all = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      all.add(acquire(pool));
    }
    pool.ready(starter.started.get(0));
    all.get(0).lease.release(Outcome.OK);
    all.get(1).lease.release(Outcome.OK);
    clock.advance(Duration.ofSeconds(1));
    pool.close();
    assertThat(all).allSatisfy(r -> assertThat(r.told).isEqualTo(1));
    assertThat(clock.pending()).isZero();
  }

  @Test
  void anInstanceCannotComeBackFromStopped() {
    Instance in = new Instance(1, "fn#1", 0, null);
    in.moveTo(InstanceState.READY);
    in.moveTo(InstanceState.STOPPED);
    assertThatThrownBy(() -> in.moveTo(InstanceState.READY))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("cannot go from STOPPED to READY");
  }

  // ---------------------------------------------------------------- spares

  @Test
  void aColdRequestStartsItsOwnInstanceAndTheSparesBeyondIt() {
    FunctionPool pool = pool(b -> b.maxInstances(4).spare(2));
    assertThat(starter.started).isEmpty(); // no spares before anyone asks
    Recorder r = acquire(pool);
    assertThat(starter.started).hasSize(3);

    pool.ready(starter.started.get(0));
    assertThat(r.lease).isNotNull();
    pool.ready(starter.started.get(1));
    pool.ready(starter.started.get(2));
    r.lease.release(Outcome.OK);
    assertThat(starter.started).hasSize(3); // three idle: two spares and one more
  }

  @Test
  void aRequestThatTakesASpareStartsAnotherSoTheNextNeverWaits() {
    FunctionPool pool = pool(b -> b.maxInstances(4).spare(1));
    Recorder first = acquire(pool);
    pool.ready(starter.started.get(0));
    pool.ready(starter.started.get(1));
    assertThat(first.lease).isNotNull();

    Recorder second = acquire(pool); // the first still runs: the spare serves at once
    assertThat(second.lease).isNotNull();
    assertThat(second.lease.instance).isSameAs(starter.started.get(1));
    assertThat(starter.started).hasSize(3);
  }

  @Test
  void sparesCountAgainstMaxInstances() {
    FunctionPool pool = pool(b -> b.maxInstances(2).spare(2));
    Recorder r = acquire(pool);
    assertThat(starter.started).hasSize(2);
    pool.ready(starter.started.get(0));
    pool.ready(starter.started.get(1));
    Recorder s = acquire(pool);
    assertThat(r.lease).isNotNull();
    assertThat(s.lease).isNotNull();
    assertThat(starter.started).hasSize(2); // both busy, none may be added
  }

  @Test
  void aRecycledInstanceIsReplacedBeforeTheNextRequestNeedsIt() {
    FunctionPool pool = pool(b -> b.maxInstances(2).spare(1).maxRequestsPerInstance(1));
    for (int i = 0; i < 5; i++) {
      Recorder r = acquire(pool);
      if (i == 0) {
        pool.ready(starter.started.get(0));
      }
      assertThat(r.lease).as("request %d is served at once", i).isNotNull();
      pool.ready(starter.started.getLast()); // the spare it started
      r.lease.release(Outcome.OK); // recycled: its instance drains
    }
    assertThat(starter.stopped).hasSize(5);
    assertThat(pool.instances())
        .filteredOn(v -> v.state() == InstanceState.READY)
        .hasSize(1); // the next spare; the others drain
  }

  @Test
  void sparesAreNotStartedWhileTheFunctionBacksOff() {
    FunctionPool pool = pool(b -> b.maxInstances(4).spare(1));
    acquire(pool);
    pool.startFailed(starter.started.get(0), "boom");
    pool.startFailed(starter.started.get(1), "boom");
    int before = starter.started.size();
    Recorder r = acquire(pool);
    assertThat(r.problem).isNotNull();
    assertThat(starter.started).hasSize(before);
  }

  @Test
  void whileRequestsKeepComingTheSpareOutlivesTheIdleTimeoutThenGoesWithTheRest() {
    FunctionPool pool = pool(b -> b.maxInstances(4).spare(1).idleTimeout(Duration.ofMinutes(5)));
    Recorder first = acquire(pool);
    pool.ready(starter.started.get(0));
    pool.ready(starter.started.get(1));
    first.lease.release(Outcome.OK);
    // Requests one after another every minute go to the newest instance; the other is the spare.
    for (int minute = 1; minute <= 7; minute++) {
      clock.advance(Duration.ofMinutes(1));
      Recorder r = acquire(pool);
      r.lease.release(Outcome.OK);
      pool.cleanup(clock.nanoTime());
    }
    assertThat(starter.stopped).isEmpty();
    assertThat(starter.started).hasSize(2);

    clock.advance(Duration.ofMinutes(5)); // nobody calls: the function is idle
    pool.cleanup(clock.nanoTime());
    assertThat(starter.stopped).hasSize(2);
  }

  @Test
  void noSparesComeBackAfterAnAdminStopUntilTheNextRequest() {
    FunctionPool pool = pool(b -> b.maxInstances(4).spare(1));
    Recorder r = acquire(pool);
    pool.ready(starter.started.get(0));
    pool.ready(starter.started.get(1));
    r.lease.release(Outcome.OK);

    pool.stopInstances();
    for (Instance in : List.copyOf(starter.stopped)) {
      pool.exited(in, exit(0));
    }
    pool.cleanup(clock.nanoTime());
    assertThat(pool.instances()).isEmpty();
    assertThat(starter.started).hasSize(2);

    Recorder cold = acquire(pool); // cold again: waits for its own start
    assertThat(cold.told).isZero();
    assertThat(starter.started).hasSize(4);
  }

  @Test
  void aRetiredPoolServesWhatIsQueuedThenStopsEachInstanceAndSaysWhenEmpty() {
    FunctionPool pool = pool(b -> b);
    Recorder first = acquire(pool);
    Instance in = starter.started.get(0);
    pool.ready(in);
    Recorder queued = acquire(pool);
    boolean[] empty = {false};

    pool.retire(() -> empty[0] = true);
    assertThat(starter.stopped).as("busy, with a request queued").isEmpty();

    first.lease.release(Outcome.OK);
    assertThat(queued.lease).as("the queued request is served by the old instance").isNotNull();
    assertThat(starter.stopped).isEmpty();
    queued.lease.release(Outcome.OK);
    assertThat(starter.stopped).containsExactly(in);
    assertThat(empty[0]).isFalse();
    pool.exited(in, exit(0));
    assertThat(empty[0]).isTrue();
    assertThat(starter.started).as("no minimum or spares restarted").hasSize(1);
  }

  @Test
  void aWarmUpCompletesWhenTheFirstInstanceIsReadyOrWhenAllFailed() throws Exception {
    FunctionPool ok = pool(b -> b.maxInstances(2));
    var ready = ok.warmUp(2);
    assertThat(starter.started).hasSize(2);
    assertThat(ready).isNotDone();
    ok.ready(starter.started.get(1));
    assertThat(ready.get()).isNull();

    FunctionPool bad = pool(b -> b.maxInstances(2));
    var failed = bad.warmUp(1);
    bad.startFailed(starter.started.get(2), "SyntaxError");
    assertThat(failed.get().detail()).contains("SyntaxError");
  }

  @Test
  void aReplacementThatFailsLeavesTheOldInstanceServingAndCanBeRetried() {
    FunctionPool pool = pool(b -> b);
    Recorder r = acquire(pool);
    Instance old = starter.started.get(0);
    pool.ready(old);
    r.lease.release(Outcome.OK);

    assertThat(pool.restart(false)).isEqualTo(1);
    pool.startFailed(starter.started.get(1), "SyntaxError");
    assertThat(pool.reloadFailure()).contains("SyntaxError");
    assertThat(starter.stopped).isEmpty();
    assertThat(acquire(pool).lease).as("the old instance serves").isNotNull();

    assertThat(pool.restart(false)).as("the next change tries again").isEqualTo(1);
  }
}
