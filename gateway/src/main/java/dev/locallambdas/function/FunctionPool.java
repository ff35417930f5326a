package dev.locallambdas.function;

import dev.locallambdas.clock.Cancellable;
import dev.locallambdas.clock.Clock;
import dev.locallambdas.clock.Scheduler;
import dev.locallambdas.exchange.Problem;
import dev.locallambdas.loops.EventLoops;
import dev.locallambdas.manifest.FunctionSpec;
import dev.locallambdas.process.ChildProcess;
import dev.locallambdas.process.ExitStatus;
import dev.locallambdas.transport.Endpoint;
import dev.locallambdas.transport.Outcome;
import io.netty.channel.EventLoop;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.logging.Logger;

/**
 * The instances of one function and the requests waiting for them.
 *
 * <p>Design note. The pool is a state machine under one lock that never blocks and never calls out
 * while it holds the lock: each operation decides under the lock and collects what must happen as
 * {@link Actions} (grant this waiter, refuse that one, stop this instance), which run after the
 * lock is released. A request takes a free slot of a READY instance, preferring one whose
 * connection lives on the request's own event loop (then the whole request stays on one thread);
 * otherwise it waits in a bounded FIFO queue, and a slot that frees is handed directly to the head
 * of the queue. A new instance is started only when the waiting demand exceeds the capacity already
 * starting, and never beyond max_instances — fifty cold requests start one process when
 * max_instances is 1; and spare instances are kept started beyond the busy ones. Starting is slow
 * by nature and runs on a virtual thread ({@link Starter}), which reports back under the lock.
 * Every timeout (queue, start-up) is scheduled on the injected {@link Scheduler} and idle stop and
 * back-off read the injected {@link Clock}, so tests drive them with a manual clock.
 */
public final class FunctionPool {
  private static final Logger LOG = Logger.getLogger("dev.locallambdas.function");

  /**
   * An instance that was ready this long before it died was not crash-looping: its death starts the
   * failure count afresh, so a function that crashes now and then (with no request succeeding in
   * between, e.g. an eager instance without traffic) never climbs to the longest back-off.
   */
  static final long HEALTHY_PERIOD_NANOS = TimeUnit.SECONDS.toNanos(10);

  private static final int RECENT_STARTS = 64;

  private final FunctionSpec spec;
  private final Starter starter;
  private final EventLoops loops;
  private final Clock clock;
  private final Scheduler scheduler;
  private final PoolObserver observer;

  private final ReentrantLock lock = new ReentrantLock();
  private final List<Instance> instances = new ArrayList<>();
  private final Backoff backoff = new Backoff(Math::random);
  private final ArrayDeque<StartRecord> recentStarts = new ArrayDeque<>();

  /** Instances a restart replaces: each drains once a replacement is ready (oldest first). */
  private final ArrayDeque<Instance> retiring = new ArrayDeque<>();

  private Queued head;
  private Queued tail;
  private int waiting;

  /**
   * Instance numbers; shared by every pool of the same function id (a reload's old and new pools),
   * because the label ID#N marks an instance's processes and stopping one stops all it marks.
   */
  private java.util.concurrent.atomic.AtomicInteger numbers =
      new java.util.concurrent.atomic.AtomicInteger(1);

  private boolean closed;

  /** Drained through the admin API: no requests, no starts, until started again. */
  private boolean drained;

  /**
   * Replaced or removed by a reload (docs/reload.md): serves what it still gets (queued requests,
   * requests routed just before the swap), keeps no minimum or spares, and each instance stops as
   * soon as it has nothing to do; {@link #onEmpty} runs once the last one has exited.
   */
  private boolean retired;

  private Runnable onEmpty;

  /** Completed when a warm-up's first instance is ready (null) or every one of them failed. */
  private java.util.concurrent.CompletableFuture<Problem> warmup;

  /** Why the last reload of this function could not be applied; null when it was. */
  private volatile String reloadFailure;

  private Problem lastFailure;

  /** When a request last asked for a slot; spares are kept only while the function is in use. */
  private long lastDemandNanos;

  private boolean demanded;

  FunctionPool(
      FunctionSpec spec, Starter starter, EventLoops loops, Clock clock, Scheduler scheduler) {
    this(spec, starter, loops, clock, scheduler, PoolObserver.NONE);
  }

  FunctionPool(
      FunctionSpec spec,
      Starter starter,
      EventLoops loops,
      Clock clock,
      Scheduler scheduler,
      PoolObserver observer) {
    this.spec = spec;
    this.starter = starter;
    this.loops = loops;
    this.clock = clock;
    this.scheduler = scheduler;
    this.observer = observer;
  }

  public FunctionSpec spec() {
    return spec;
  }

  // ---------------------------------------------------------------- acquiring

  /** Asks for a slot; the waiter is told once, unless it cancels the ticket first. */
  public Ticket acquire(Waiter waiter) {
    Actions actions = new Actions();
    Ticket ticket = Ticket.NONE;
    lock.lock();
    try {
      long now = clock.nanoTime();
      Instance free = closed ? null : pickReady(waiter.loop());
      lastDemandNanos = now;
      demanded = true;
      if (closed) {
        actions.refuse(waiter, Failures.shuttingDown(spec));
      } else if (drained) {
        actions.refuse(waiter, Failures.drained(spec));
      } else if (free != null) {
        actions.grant(waiter, lease(free));
        ensureSpares(now, actions);
      } else if (countStartingOrReady() == 0 && backoff.active(now)) {
        actions.refuse(waiter, crashLoop(now));
      } else if (waiting >= spec.queueSize()) {
        actions.refuse(waiter, Failures.overloaded(spec));
      } else {
        Queued q = enqueue(waiter);
        ticket = q;
        startIfNeeded(now, waiter.loop(), actions);
        ensureSpares(now, actions);
      }
    } finally {
      lock.unlock();
    }
    actions.run();
    return ticket;
  }

  private Instance pickReady(EventLoop loop) {
    // The most recently started instance with room keeps the others idle (so they can be
    // stopped) and its caches warm; one on the caller's own loop saves two thread hops.
    Instance any = null;
    for (int i = instances.size() - 1; i >= 0; i--) {
      Instance in = instances.get(i);
      if (in.hasRoom(spec.concurrency())) {
        if (sameLoop(in.endpointLoop(), loop)) {
          return in;
        }
        if (any == null) {
          any = in;
        }
      }
    }
    return any;
  }

  private Lease lease(Instance in) {
    in.inFlight++;
    return new Lease(this, in, in.served == 0 && in.inFlight == 1);
  }

  /** A waiting request, linked into the queue; its timer gives up after queue_timeout. */
  private final class Queued implements Ticket {
    final Waiter waiter;
    Queued prev;
    Queued next;
    boolean queued = true;
    int bypassed;
    Cancellable timer = Cancellable.NONE;

    Queued(Waiter waiter) {
      this.waiter = waiter;
    }

    @Override
    public void cancel() {
      lock.lock();
      try {
        if (!queued) {
          return;
        }
        unlink(this);
      } finally {
        lock.unlock();
      }
    }

    void expire() {
      boolean expired;
      lock.lock();
      try {
        expired = queued;
        if (expired) {
          unlink(this);
        }
      } finally {
        lock.unlock();
      }
      if (expired) {
        observer.queueTimedOut();
        waiter.refused(Failures.queueTimeout(spec));
      }
    }
  }

  private Queued enqueue(Waiter waiter) {
    Queued q = new Queued(waiter);
    if (tail == null) {
      head = q;
    } else {
      tail.next = q;
      q.prev = tail;
    }
    tail = q;
    waiting++;
    q.timer = scheduler.schedule(q::expire, spec.queueTimeout().toNanos());
    return q;
  }

  /** Takes {@code q} out of the queue (under the lock) and stops its timer. */
  private void unlink(Queued q) {
    q.queued = false;
    q.timer.cancel();
    if (q.prev == null) {
      head = q.next;
    } else {
      q.prev.next = q.next;
    }
    if (q.next == null) {
      tail = q.prev;
    } else {
      q.next.prev = q.prev;
    }
    q.prev = null;
    q.next = null;
    waiting--;
  }

  /**
   * Hands free slots to waiting requests, oldest first — except that a waiter whose request lives
   * on the instance's own event loop may go ahead of older ones on other loops, so that the request
   * never changes threads. The oldest waiter is never passed over more than {@link #MAX_BYPASS}
   * times.
   */
  private void grantWaiting(Actions actions) {
    for (int i = instances.size() - 1; i >= 0 && head != null; i--) {
      Instance in = instances.get(i);
      while (head != null && in.hasRoom(spec.concurrency())) {
        Queued q = pickWaiter(in.endpointLoop());
        unlink(q);
        actions.grant(q.waiter, lease(in));
      }
    }
  }

  /** How often a waiter may be passed over for a younger one on the instance's loop. */
  static final int MAX_BYPASS = 8;

  private static final int LOOKAHEAD = 8;

  private Queued pickWaiter(EventLoop loop) {
    Queued q = head;
    if (loop == null || sameLoop(q.waiter.loop(), loop) || q.bypassed >= MAX_BYPASS) {
      return q;
    }
    int seen = 0;
    for (Queued c = q.next; c != null && seen < LOOKAHEAD; c = c.next, seen++) {
      if (sameLoop(c.waiter.loop(), loop)) {
        for (Queued s = q; s != c; s = s.next) {
          s.bypassed++;
        }
        return c;
      }
    }
    return q;
  }

  private void refuseWaiting(Problem problem, Actions actions) {
    while (head != null) {
      Queued q = head;
      unlink(q);
      actions.refuse(q.waiter, problem);
    }
  }

  // ---------------------------------------------------------------- releasing

  /** Called once per lease; {@code outcome} null gives back a slot that was never used. */
  void release(Lease lease, Outcome outcome) {
    Instance in = lease.instance;
    Actions actions = new Actions();
    lock.lock();
    try {
      in.inFlight--;
      if (outcome != null) {
        in.served++;
        in.lastUsedNanos = clock.nanoTime();
      }
      if (outcome == Outcome.OK) {
        backoff.succeeded();
      }
      if (outcome == Outcome.BROKEN || outcome == Outcome.HUNG) {
        in.crashed |= outcome == Outcome.BROKEN && !in.stopRequested;
        if (in.stopCause == null) {
          in.stopCause = outcome == Outcome.HUNG ? StopCause.TIMEOUT : StopCause.CRASH;
        }
        if (!in.is(InstanceState.STOPPED) && !in.is(InstanceState.DRAINING)) {
          in.moveTo(InstanceState.DRAINING);
        }
        if (!in.stopRequested) {
          in.stopRequested = true;
          actions.stop(in, outcome == Outcome.HUNG);
        }
      } else if (in.is(InstanceState.READY)
          && spec.maxRequestsPerInstance() > 0
          && in.served >= spec.maxRequestsPerInstance()) {
        in.moveTo(InstanceState.DRAINING); // recycled
        in.stopCause = StopCause.RECYCLE;
      }
      if (in.is(InstanceState.DRAINING) && in.inFlight == 0 && !in.stopRequested) {
        in.stopRequested = true;
        actions.stop(in, false);
      }
      grantWaiting(actions);
      retireIdle(actions);
      long now = clock.nanoTime();
      if (head != null) {
        startIfNeeded(now, head.waiter.loop(), actions);
      }
      ensureSpares(now, actions);
    } finally {
      lock.unlock();
    }
    actions.run();
  }

  // ---------------------------------------------------------------- starting

  private int countStartingOrReady() {
    int n = 0;
    for (Instance in : instances) {
      if (in.is(InstanceState.STARTING) || in.is(InstanceState.READY)) {
        n++;
      }
    }
    return n;
  }

  /** Starts instances while the waiting demand exceeds what is starting (under the lock). */
  private void startIfNeeded(long now, EventLoop loop, Actions actions) {
    if (closed || drained || backoff.active(now)) {
      return;
    }
    int starting = 0;
    for (Instance in : instances) {
      if (in.is(InstanceState.STARTING)) {
        starting++;
      }
    }
    while (waiting > starting * spec.concurrency()
        && countStartingOrReady() < spec.maxInstances()) {
      startInstance(now, loop, actions);
      starting++;
    }
  }

  /**
   * Keeps spare instances started beyond the busy ones (under the lock): instances starting, or
   * ready with nothing in flight, less what the waiting requests will take. Called when a request
   * asks for a slot or gives one back — never from an exit or the idle sweep, so a function nobody
   * calls (after an admin stop, after its idle timeout) gets no spares until its next request.
   */
  private void ensureSpares(long now, Actions actions) {
    int want = spec.spare();
    if (want == 0 || closed || retired || backoff.active(now)) {
      return;
    }
    int spares = idleOrStarting() - (waiting + spec.concurrency() - 1) / spec.concurrency();
    while (spares < want && countStartingOrReady() < spec.maxInstances()) {
      startInstance(now, null, actions);
      spares++;
    }
  }

  private int idleOrStarting() {
    int n = 0;
    for (Instance in : instances) {
      if (in.is(InstanceState.STARTING) || (in.is(InstanceState.READY) && in.inFlight == 0)) {
        n++;
      }
    }
    return n;
  }

  private Instance startInstance(long now, EventLoop loop, Actions actions) {
    EventLoop home = loop != null ? loop : loops != null ? loops.next() : null;
    int number = numbers.getAndIncrement();
    Instance in = new Instance(number, spec.id() + "#" + number, now, home);
    instances.add(in);
    in.startupTimer =
        scheduler.schedule(() -> startupTimedOut(in), spec.startupTimeout().toNanos());
    actions.add(() -> starter.start(this, in));
    return in;
  }

  /**
   * Reported by the starter once the process runs. False when the start was given up meanwhile
   * (start-up timeout, shutdown): the starter then kills what it started.
   */
  boolean spawned(Instance in, Endpoint endpoint, ChildProcess process) {
    lock.lock();
    try {
      in.endpoint = endpoint;
      in.process = process;
      in.spawnedNanos = clock.nanoTime();
      return in.is(InstanceState.STARTING) && !closed;
    } finally {
      lock.unlock();
    }
  }

  /** Reported by the starter when the child signalled readiness. */
  void ready(Instance in) {
    Actions actions = new Actions();
    lock.lock();
    try {
      in.startupTimer.cancel();
      if (!in.is(InstanceState.STARTING)) {
        return; // timed out or stopped meanwhile: the starter's success came too late
      }
      in.moveTo(InstanceState.READY);
      in.readyNanos = clock.nanoTime();
      in.lastUsedNanos = in.readyNanos;
      recordStart(in);
      long pid = in.process != null ? in.process.pid() : -1;
      long ms = TimeUnit.NANOSECONDS.toMillis(in.readyNanos - in.spawnRequestedNanos);
      LOG.info(
          in.label
              + ": ready (pid "
              + pid
              + ", "
              + ms
              + " ms"
              + (in.forked ? ", forked" : "")
              + ")");
      observer.started(
          in.label, pid, in.spawnedNanos - in.spawnRequestedNanos, in.readyNanos - in.spawnedNanos);
      if (closed || drained) {
        in.moveTo(InstanceState.DRAINING);
        in.stopCause = closed ? StopCause.SHUTDOWN : StopCause.ADMIN;
        in.stopRequested = true;
        actions.stop(in, false);
      } else if (in.replacement) {
        reloadFailure = null;
        retireOne(actions);
      }
      grantWaiting(actions);
      retireIdle(actions);
      completeWarmup(null, actions);
    } finally {
      lock.unlock();
    }
    actions.run();
  }

  private void startupTimedOut(Instance in) {
    boolean timedOut;
    lock.lock();
    try {
      timedOut = in.is(InstanceState.STARTING);
    } finally {
      lock.unlock();
    }
    if (timedOut) {
      startFailed(
          in,
          "it did not signal readiness within its startup_timeout of "
              + human(spec.startupTimeout()),
          true);
    }
  }

  /** Reported by the starter (or the start-up timer): the instance will not become ready. */
  void startFailed(Instance in, String reason) {
    startFailed(in, reason, false);
  }

  private void startFailed(Instance in, String reason, boolean timedOut) {
    Actions actions = new Actions();
    String exit = in.exitStatus != null ? " (the process " + in.exitStatus.describe() + ")" : "";
    lock.lock();
    try {
      in.startupTimer.cancel();
      if (in.is(InstanceState.STOPPED) || !instances.contains(in)) {
        return; // already reported
      }
      LOG.warning(in.label + ": failed to start: " + reason + exit);
      observer.startFailed(in.label, reason + exit, timedOut);
      in.moveTo(InstanceState.STOPPED);
      instances.remove(in);
      in.stopRequested = true;
      actions.kill(in);
      backoff.failed(clock.nanoTime());
      lastFailure =
          Failures.startFailed(
              spec, reason + exit, in.process != null ? in.process.recentStderr() : List.of());
      if (in.replacement) {
        // The instance it was to replace keeps serving; a later restart may replace it again.
        retiring.pollLast();
        reloadFailure = "the new instance failed to start: " + reason + exit;
      }
      if (countStartingOrReady() == 0) {
        refuseWaiting(lastFailure, actions); // the start they waited for failed: say why
        completeWarmup(lastFailure, actions);
      }
      emptied(actions);
    } finally {
      lock.unlock();
    }
    actions.run();
  }

  /** Reported when an instance's process exited, for whatever reason. */
  void exited(Instance in, ExitStatus status) {
    in.exitStatus = status;
    Actions actions = new Actions();
    boolean unexpected;
    lock.lock();
    try {
      if (in.is(InstanceState.STARTING)) {
        return; // the starter sees the death and reports it through startFailed
      }
      unexpected = in.crashed || (!in.stopRequested && !in.is(InstanceState.STOPPED));
      if (!in.is(InstanceState.STOPPED)) {
        in.moveTo(InstanceState.STOPPED);
      }
      instances.remove(in);
      long now = clock.nanoTime();
      if (unexpected) {
        if (in.readyNanos != 0 && now - in.readyNanos >= HEALTHY_PERIOD_NANOS) {
          backoff.forgive();
        }
        backoff.failed(now);
        lastFailure =
            Failures.crashed(
                spec, in.label, status, in.process != null ? in.process.recentStderr() : List.of());
      }
      StopCause cause =
          unexpected && in.stopCause != StopCause.TIMEOUT
              ? StopCause.CRASH
              : in.stopCause != null ? in.stopCause : StopCause.ADMIN;
      observer.stopped(
          in.label,
          cause,
          status.describe(),
          in.process != null ? in.process.recentOutput() : List.of());
      actions.closeEndpoint(in);
      if (head != null && countStartingOrReady() == 0) {
        if (backoff.active(now)) {
          refuseWaiting(crashLoop(now), actions);
        } else {
          startIfNeeded(now, head.waiter.loop(), actions);
        }
      }
      ensureMinimum(now, actions);
      emptied(actions);
    } finally {
      lock.unlock();
    }
    if (unexpected) {
      LOG.warning(in.label + ": " + status.describe());
    }
    actions.run();
  }

  private Problem crashLoop(long now) {
    long seconds = Math.max(1, TimeUnit.NANOSECONDS.toSeconds(backoff.until() - now + 999_999_999));
    return Failures.crashLoop(spec, backoff.failures(), seconds, lastFailure);
  }

  // ---------------------------------------------------------------- minimum, idle, stop

  private void ensureMinimum(long now, Actions actions) {
    while (!closed
        && !drained
        && !retired
        && countStartingOrReady() < spec.minInstances()
        && !backoff.active(now)) {
      startInstance(now, null, actions);
    }
  }

  /** Starts instances until min_instances are starting or ready (not while backing off). */
  public void ensureMinimum() {
    Actions actions = new Actions();
    lock.lock();
    try {
      ensureMinimum(clock.nanoTime(), actions);
    } finally {
      lock.unlock();
    }
    actions.run();
  }

  /** Starts the function's first instances as its start policy asks (eager: at least one). */
  void startEagerly() {
    Actions actions = new Actions();
    lock.lock();
    try {
      long now = clock.nanoTime();
      int target = Math.max(spec.minInstances(), 1);
      while (!closed && countStartingOrReady() < target) {
        startInstance(now, null, actions);
      }
    } finally {
      lock.unlock();
    }
    actions.run();
  }

  /**
   * Stops instances idle for longer than idle_timeout (keeping min_instances, and the spares while
   * requests keep coming) and restarts the minimum after a back-off. Returns the nanoseconds until
   * the next instance may become idle, or Long.MAX_VALUE when none can.
   */
  public long cleanup(long now) {
    Actions actions = new Actions();
    long next = Long.MAX_VALUE;
    lock.lock();
    try {
      long idle = spec.idleTimeout().toNanos();
      int ready = 0;
      int longIdle = 0;
      for (Instance in : instances) {
        if (in.is(InstanceState.READY)) {
          ready++;
          if (idle > 0 && in.inFlight == 0 && now - in.lastUsedNanos >= idle) {
            longIdle++;
          }
        }
      }
      // While requests keep coming, spares are idle by design: the newest `spare` of the instances
      // idle for idle_timeout are kept (the oldest go) until the function itself has been idle
      // that long; then they go like any instance.
      long unusedFor = now - lastDemandNanos;
      boolean inUse = demanded && spec.spare() > 0 && unusedFor < idle;
      int stoppable = longIdle - (inUse ? spec.spare() : 0);
      if (inUse && longIdle > 0) {
        next = Math.min(next, idle - unusedFor);
      }
      for (Instance in : instances) {
        if (idle == 0 || !in.is(InstanceState.READY) || in.inFlight > 0) {
          continue;
        }
        long idleFor = now - in.lastUsedNanos;
        if (idleFor >= idle && ready > spec.minInstances() && stoppable > 0) {
          in.moveTo(InstanceState.DRAINING);
          in.stopCause = StopCause.IDLE;
          in.stopRequested = true;
          ready--;
          stoppable--;
          LOG.info(in.label + ": idle for " + human(spec.idleTimeout()) + ", stopping");
          actions.stop(in, false);
        } else if (idleFor < idle) {
          next = Math.min(next, idle - idleFor);
        }
      }
      boolean belowMinimum = !closed && countStartingOrReady() < spec.minInstances();
      if (belowMinimum && backoff.active(now)) {
        next = Math.min(next, backoff.until() - now);
      }
      ensureMinimum(now, actions);
    } finally {
      lock.unlock();
    }
    actions.run();
    return next;
  }

  /**
   * Stops every instance without closing the pool (the admin "stop"): idle instances stop now, busy
   * ones as soon as their requests finish. The next request starts a fresh instance.
   */
  public void stopInstances() {
    Actions actions = new Actions();
    lock.lock();
    try {
      for (Instance in : instances) {
        if (in.is(InstanceState.READY)) { // a starting instance is left to serve its waiters
          in.moveTo(InstanceState.DRAINING);
          in.stopCause = StopCause.ADMIN;
          if (in.inFlight == 0) {
            in.stopRequested = true;
            actions.stop(in, false);
          }
        }
      }
    } finally {
      lock.unlock();
    }
    actions.run();
  }

  /**
   * Replaces every ready instance without a moment of downtime: starts one new instance per ready
   * one (max_instances may be exceeded meanwhile), and each time a new one is ready, the oldest old
   * one drains (finishes its requests, then stops). A replacement that fails to start leaves its
   * old instance serving. Also undoes a drain. Returns how many instances are being replaced.
   */
  public int restart() {
    return restart(true);
  }

  /** As {@link #restart()}; a watched file's change leaves a drained function drained. */
  int restart(boolean undoDrain) {
    Actions actions = new Actions();
    int replaced = 0;
    lock.lock();
    try {
      if (closed || retired || (drained && !undoDrain)) {
        return 0;
      }
      drained = false;
      long now = clock.nanoTime();
      for (Instance in : new ArrayList<>(instances)) {
        if (in.is(InstanceState.READY) && !retiring.contains(in)) {
          retiring.add(in);
          startInstance(now, null, actions).replacement = true;
          replaced++;
        }
      }
    } finally {
      lock.unlock();
    }
    actions.run();
    return replaced;
  }

  /** A replacement is ready: the oldest instance it replaces drains (under the lock). */
  private void retireOne(Actions actions) {
    Instance old;
    while ((old = retiring.poll()) != null) {
      if (old.is(InstanceState.READY)) {
        old.moveTo(InstanceState.DRAINING);
        old.stopCause = StopCause.ADMIN;
        if (old.inFlight == 0) {
          old.stopRequested = true;
          actions.stop(old, false);
        }
        return;
      }
    }
  }

  /**
   * Starts {@code count} instances (at least one, at most max_instances) for a pool that a reload
   * is about to put in service; the future completes with null once the first is ready, or with the
   * problem once every one of them has failed to start.
   */
  public java.util.concurrent.CompletableFuture<Problem> warmUp(int count) {
    Actions actions = new Actions();
    java.util.concurrent.CompletableFuture<Problem> f =
        new java.util.concurrent.CompletableFuture<>();
    lock.lock();
    try {
      if (closed) {
        f.complete(Failures.shuttingDown(spec));
        return f;
      }
      warmup = f;
      long now = clock.nanoTime();
      int target = Math.min(Math.max(count, 1), spec.maxInstances());
      while (countStartingOrReady() < target) {
        startInstance(now, null, actions);
      }
    } finally {
      lock.unlock();
    }
    actions.run();
    return f;
  }

  /** Under the lock. */
  private void completeWarmup(Problem problem, Actions actions) {
    if (warmup != null) {
      java.util.concurrent.CompletableFuture<Problem> f = warmup;
      warmup = null;
      actions.add(() -> f.complete(problem));
    }
  }

  /**
   * Takes the pool out of service after a reload replaced or removed its function: what is queued
   * or still arrives is served, then each instance stops as soon as it is idle (in-flight requests
   * finish). {@code whenEmpty} runs once no instance is left.
   */
  void retire(Runnable whenEmpty) {
    Actions actions = new Actions();
    lock.lock();
    try {
      retired = true;
      retiring.clear();
      onEmpty = whenEmpty;
      retireIdle(actions);
      emptied(actions);
    } finally {
      lock.unlock();
    }
    actions.run();
  }

  /** Under the lock: once a retired pool has no instance and no waiter, says so (once). */
  private void emptied(Actions actions) {
    if (retired && instances.isEmpty() && head == null && onEmpty != null) {
      actions.add(onEmpty);
      onEmpty = null;
    }
  }

  /** Under the lock: a retired pool stops each ready instance that has nothing left to do. */
  private void retireIdle(Actions actions) {
    if (!retired || head != null) {
      return;
    }
    for (Instance in : instances) {
      if (in.is(InstanceState.READY) && in.inFlight == 0) {
        in.moveTo(InstanceState.DRAINING);
        in.stopCause = StopCause.RELOAD;
        in.stopRequested = true;
        actions.stop(in, false);
      }
    }
  }

  /** Numbers this pool's instances from {@code shared} (before its first start). */
  void numberFrom(java.util.concurrent.atomic.AtomicInteger shared) {
    lock.lock();
    try {
      numbers = shared;
    } finally {
      lock.unlock();
    }
  }

  /** Ready instances now. */
  public int readyCount() {
    lock.lock();
    try {
      int n = 0;
      for (Instance in : instances) {
        if (in.is(InstanceState.READY)) {
          n++;
        }
      }
      return n;
    } finally {
      lock.unlock();
    }
  }

  /**
   * Why the last reload of this function (a manifest change or a watched file's change) could not
   * be applied, e.g. "the new instance failed to start: ..."; null when the last one was. The old
   * instances keep serving meanwhile.
   */
  public String reloadFailure() {
    return reloadFailure;
  }

  /** Records (or, with null, clears) why a reload of this function was not applied. */
  public void reloadFailed(String reason) {
    this.reloadFailure = reason;
  }

  /**
   * Takes the function out of service (the admin "drain"): waiting and new requests get 503, ready
   * instances finish their requests and stop, and nothing starts until {@link #start}.
   */
  public void drain() {
    Actions actions = new Actions();
    lock.lock();
    try {
      drained = true;
      retiring.clear();
      refuseWaiting(Failures.drained(spec), actions);
    } finally {
      lock.unlock();
    }
    actions.run();
    stopInstances();
  }

  /**
   * Puts a drained function back in service and starts its first instances now (min_instances, at
   * least one), as an eager start would; a running function gets an instance if it has none.
   */
  public void start() {
    lock.lock();
    try {
      drained = false;
    } finally {
      lock.unlock();
    }
    startEagerly();
  }

  /** Takes no new requests; waiting requests get 503. */
  void close() {
    Actions actions = new Actions();
    lock.lock();
    try {
      closed = true;
      refuseWaiting(Failures.shuttingDown(spec), actions);
    } finally {
      lock.unlock();
    }
    actions.run();
  }

  /** Requests currently being served. */
  public int inFlight() {
    lock.lock();
    try {
      int n = 0;
      for (Instance in : instances) {
        n += in.inFlight;
      }
      return n;
    } finally {
      lock.unlock();
    }
  }

  /** Stops every instance (SIGTERM, then SIGKILL after stop_grace); returns their processes. */
  List<Instance> stopAll() {
    Actions actions = new Actions();
    List<Instance> all;
    lock.lock();
    try {
      closed = true;
      refuseWaiting(Failures.shuttingDown(spec), actions);
      all = new ArrayList<>(instances);
      retiring.clear();
      completeWarmup(Failures.shuttingDown(spec), actions);
      for (Instance in : all) {
        if (!in.is(InstanceState.DRAINING) && !in.is(InstanceState.STOPPED)) {
          in.moveTo(InstanceState.DRAINING);
        }
        if (in.stopCause == null) {
          in.stopCause = StopCause.SHUTDOWN;
        }
        in.startupTimer.cancel();
        in.stopRequested = true;
        actions.stop(in, false);
      }
    } finally {
      lock.unlock();
    }
    actions.run();
    return all;
  }

  // ---------------------------------------------------------------- views

  private void recordStart(Instance in) {
    if (recentStarts.size() == RECENT_STARTS) {
      recentStarts.removeFirst();
    }
    recentStarts.addLast(
        new StartRecord(
            in.number,
            in.process != null ? in.process.pid() : -1,
            in.spawnRequestedNanos,
            in.spawnedNanos,
            in.readyNanos,
            in.forked));
  }

  /** The last instance starts that succeeded (up to 64), oldest first. */
  public List<StartRecord> recentStarts() {
    lock.lock();
    try {
      return List.copyOf(recentStarts);
    } finally {
      lock.unlock();
    }
  }

  /** A snapshot of the instances, oldest first. */
  public List<InstanceView> instances() {
    lock.lock();
    try {
      List<InstanceView> out = new ArrayList<>(instances.size());
      for (Instance in : instances) {
        out.add(
            new InstanceView(
                in.number,
                in.process != null ? in.process.pid() : -1,
                in.state(),
                in.inFlight,
                in.served));
      }
      return out;
    } finally {
      lock.unlock();
    }
  }

  /** Waiting, in flight, drained and back-off, in one consistent snapshot. */
  public PoolStatus status() {
    lock.lock();
    try {
      int busy = 0;
      for (Instance in : instances) {
        busy += in.inFlight;
      }
      long now = clock.nanoTime();
      long remaining = backoff.active(now) ? backoff.until() - now : 0;
      return new PoolStatus(waiting, busy, drained, backoff.failures(), remaining);
    } finally {
      lock.unlock();
    }
  }

  /** The last output lines (stdout and stderr, oldest first) of instance {@code number}. */
  public List<String> recentOutput(int number) {
    ChildProcess process = null;
    lock.lock();
    try {
      for (Instance in : instances) {
        if (in.number == number) {
          process = in.process;
        }
      }
    } finally {
      lock.unlock();
    }
    return process != null ? process.recentOutput() : List.of();
  }

  /** Requests waiting for a slot. */
  public int waiting() {
    lock.lock();
    try {
      return waiting;
    } finally {
      lock.unlock();
    }
  }

  static String human(java.time.Duration d) {
    return Failures.human(d);
  }

  /** Event loops are threads: the same loop is the same object. */
  @SuppressWarnings("ReferenceEquality")
  private static boolean sameLoop(EventLoop a, EventLoop b) {
    return a == b;
  }

  /**
   * What an operation decided under the lock and does after it: grants and refusals call out to
   * waiters, stops and starts touch processes. Allocated lazily; the fast path adds one grant.
   */
  private final class Actions {
    private List<Runnable> list;

    void add(Runnable r) {
      if (list == null) {
        list = new ArrayList<>(4);
      }
      list.add(r);
    }

    void grant(Waiter w, Lease lease) {
      add(() -> w.granted(lease));
    }

    void refuse(Waiter w, Problem p) {
      add(() -> w.refused(p));
    }

    /** Closes the endpoint and stops the process tree; a hung one gets its endpoint cut first. */
    void stop(Instance in, boolean hung) {
      add(() -> starter.stop(FunctionPool.this, in, hung));
    }

    void kill(Instance in) {
      add(() -> starter.kill(in));
    }

    void closeEndpoint(Instance in) {
      add(
          () -> {
            if (in.endpoint != null) {
              in.endpoint.close();
            }
          });
    }

    void run() {
      if (list != null) {
        for (Runnable r : list) {
          r.run();
        }
      }
    }
  }
}
