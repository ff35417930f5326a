package dev.locallambdas.function;

import dev.locallambdas.exchange.ClientGoneException;
import dev.locallambdas.exchange.Problem;
import dev.locallambdas.exchange.Request;
import dev.locallambdas.exchange.ResponseSink;
import dev.locallambdas.manifest.FunctionSpec;
import dev.locallambdas.process.ChildLauncher;
import dev.locallambdas.process.ChildProcess;
import dev.locallambdas.process.ExitStatus;
import dev.locallambdas.process.LaunchSpec;
import dev.locallambdas.transport.Endpoint;
import dev.locallambdas.transport.EndpointContext;
import dev.locallambdas.transport.Transport;
import dev.locallambdas.transport.TransportException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.channels.ClosedByInterruptException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongSupplier;
import java.util.logging.Logger;

/**
 * The instances of one function and the requests waiting for them.
 *
 * <p>Design note. All state (instances, their in-flight counts, the number of waiters, the crash
 * counter) lives under one lock and one condition; every change that could let a waiter proceed
 * signals all waiters, and each waiter re-checks from scratch. That makes the rules easy to read in
 * {@link #acquire}: take a free slot; else fail fast when the function is crash-looping or its last
 * start failed; else queue (bounded) and start another instance only when the demand exceeds the
 * capacity already starting — which is what keeps fifty cold requests from starting fifty
 * processes. Slow work (spawning, waiting for readiness, stopping) never runs under the lock: it
 * runs on virtual threads and reports back under the lock. Time comes from the injected ticker so
 * idle stop and back-off are tested by advancing a fake clock through {@link #cleanup(long)}.
 */
public final class FunctionPool {
  private static final Logger LOG = Logger.getLogger("dev.locallambdas.function");
  private static final long BACKOFF_BASE_NANOS = TimeUnit.MILLISECONDS.toNanos(250);
  private static final long BACKOFF_CAP_NANOS = TimeUnit.SECONDS.toNanos(30);

  /**
   * An instance that was ready this long before it died was not crash-looping: its death starts the
   * failure count afresh, so a function that crashes now and then (with no request succeeding in
   * between, e.g. an eager instance without traffic) never climbs to the longest back-off.
   */
  static final long HEALTHY_PERIOD_NANOS = TimeUnit.SECONDS.toNanos(10);

  private final FunctionSpec spec;
  private final Transport transport;
  private final ChildLauncher launcher;
  private final Path runDirectory;
  private final LongSupplier ticker;
  private final ScheduledExecutorService timer;

  private final ReentrantLock lock = new ReentrantLock();
  private final Condition changed = lock.newCondition();
  private final List<Instance> instances = new ArrayList<>();
  private int nextNumber = 1;
  private int waiting;
  private boolean closed;
  private int consecutiveFailures;
  private long backoffUntilNanos;
  private long failureGeneration;
  private Problem lastFailure;
  private final java.util.ArrayDeque<StartRecord> recentStarts = new java.util.ArrayDeque<>();
  private static final int RECENT_STARTS = 64;

  FunctionPool(
      FunctionSpec spec,
      Transport transport,
      ChildLauncher launcher,
      Path runDirectory,
      LongSupplier ticker,
      ScheduledExecutorService timer) {
    this.spec = spec;
    this.transport = transport;
    this.launcher = launcher;
    this.runDirectory = runDirectory;
    this.ticker = ticker;
    this.timer = timer;
  }

  public FunctionSpec spec() {
    return spec;
  }

  /**
   * Serves one request: waits for (or starts) an instance, runs the exchange under the request
   * timeout and turns every failure into a {@link Problem} while nothing was sent to the client.
   * Throws IOException only when the response was already committed (the caller aborts the
   * connection) or the client went away.
   */
  public void invoke(Request request, ResponseSink sink) throws Problem, IOException {
    for (int attempt = 1; ; attempt++) {
      Instance instance = acquire();
      Outcome outcome = Outcome.FAILED;
      try {
        outcome = exchange(instance, request, sink);
        return;
      } catch (TransportException e) {
        outcome = e.kind().breaksInstance() ? Outcome.BROKEN : Outcome.FAILED;
        if (sink.committed()) {
          throw e;
        }
        if (e.kind() == TransportException.Kind.NOT_DELIVERED && attempt == 1) {
          LOG.fine(
              () ->
                  instance.label
                      + ": request not delivered ("
                      + e.getMessage()
                      + "), retrying once");
          continue;
        }
        throw failureProblem(instance, e);
      } finally {
        release(instance, outcome);
      }
    }
  }

  private enum Outcome {
    OK,
    FAILED,
    BROKEN
  }

  private Outcome exchange(Instance instance, Request request, ResponseSink sink)
      throws Problem, IOException {
    Thread caller = Thread.currentThread();
    TimeoutFlag timedOut = new TimeoutFlag();
    ScheduledFuture<?> deadline =
        timer.schedule(
            () -> timedOut.fire(caller), spec.requestTimeout().toNanos(), TimeUnit.NANOSECONDS);
    try {
      instance.endpoint.exchange(request, sink);
      return Outcome.OK;
    } catch (InterruptedIOException | ClosedByInterruptException e) {
      if (!timedOut.get()) {
        throw new ClientGoneException("client went away while " + instance.label + " was working");
      }
      LOG.warning(
          instance.label
              + ": request "
              + request.method()
              + " "
              + request.path()
              + " timed out after "
              + human(spec.requestTimeout())
              + "; replacing the instance");
      stopHungInstance(instance);
      if (sink.committed()) {
        throw new IOException("request timed out after the response started", e);
      }
      throw Problem.of(504, "timeout", "Gateway Timeout")
          .function(spec.id())
          .detail(
              "function '"
                  + spec.id()
                  + "' did not answer within its request_timeout of "
                  + human(spec.requestTimeout())
                  + "; the instance was stopped. Raise <request_timeout> in the manifest if the"
                  + " work legitimately takes longer.")
          .build();
    } finally {
      deadline.cancel(false);
      if (timedOut.settle()) {
        Thread.interrupted(); // the interrupt was ours; do not leak it to the caller
      }
    }
  }

  /**
   * Decides once between "the exchange finished" and "the timeout fired", so a timeout that fires
   * as the exchange ends never leaves a stray interrupt on the request's thread.
   */
  private static final class TimeoutFlag {
    private boolean settled;
    private boolean fired;

    synchronized void fire(Thread caller) {
      if (!settled) {
        settled = true;
        fired = true;
        caller.interrupt();
      }
    }

    /** Marks the exchange finished; returns true when the timeout had fired first. */
    synchronized boolean settle() {
      settled = true;
      return fired;
    }

    synchronized boolean get() {
      return fired;
    }
  }

  private Problem failureProblem(Instance instance, TransportException e) {
    String what;
    List<String> stderr = List.of();
    ChildProcess process = instance.process;
    if (e.kind() == TransportException.Kind.CHILD_FAILED
        || e.kind() == TransportException.Kind.NOT_DELIVERED) {
      ExitStatus status = awaitExit(process, Duration.ofSeconds(1));
      if (status != null) {
        // Counted as a crash by onExit even though release() will ask for a stop next: the
        // exit may be reported to onExit only after that request.
        lock.lock();
        try {
          instance.crashed = !instance.stopRequested; // not when the gateway stopped it itself
        } finally {
          lock.unlock();
        }
      }
      what =
          status != null
              ? "instance "
                  + instance.label
                  + " "
                  + status.describe()
                  + " while handling the request"
              : "the connection to instance " + instance.label + " broke: " + e.getMessage();
      stderr = process != null ? process.recentStderr() : List.of();
    } else if (e.kind() == TransportException.Kind.PROTOCOL) {
      what =
          "instance "
              + instance.label
              + " broke the protocol ("
              + e.getMessage()
              + "); it was replaced";
    } else {
      what = "instance " + instance.label + " aborted the request: " + e.getMessage();
    }
    return Problem.of(
            502,
            e.kind() == TransportException.Kind.PROTOCOL ? "bad-child-response" : "function-failed",
            "Bad Gateway")
        .function(spec.id())
        .detail("function '" + spec.id() + "' failed: " + what + ".")
        .stderr(stderr)
        .build();
  }

  private static ExitStatus awaitExit(ChildProcess process, Duration wait) {
    if (process == null) {
      return null;
    }
    try {
      return process.onExit().get(wait.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    } catch (java.util.concurrent.ExecutionException e) {
      return null;
    }
  }

  // ---- acquiring and releasing slots --------------------------------------------------------

  private Instance acquire() throws Problem, ClientGoneException {
    lock.lock();
    boolean queued = false;
    boolean acquired = false;
    try {
      long generationAtEntry = failureGeneration;
      long remaining = spec.queueTimeout().toNanos();
      while (true) {
        if (closed) {
          throw Problem.of(503, "shutting-down", "Service Unavailable")
              .function(spec.id())
              .detail(
                  "the gateway is shutting down; function '"
                      + spec.id()
                      + "' takes no new requests")
              .retryAfterSeconds(1)
              .build();
        }
        Instance free = pickReady();
        if (free != null) {
          free.inFlight++;
          acquired = true;
          return free;
        }
        long now = ticker.getAsLong();
        boolean startingOrReady = countStartingOrReady() > 0;
        if (!startingOrReady && failureGeneration != generationAtEntry && lastFailure != null) {
          throw lastFailure; // the start this request waited for failed: say why
        }
        if (!startingOrReady && now < backoffUntilNanos) {
          throw crashLoopProblem(now);
        }
        if (!queued) {
          if (waiting >= spec.queueSize()) {
            throw Problem.of(503, "overloaded", "Service Unavailable")
                .function(spec.id())
                .detail(
                    "function '"
                        + spec.id()
                        + "' is at capacity ("
                        + spec.maxInstances()
                        + " instance(s) x concurrency "
                        + spec.concurrency()
                        + ") and its queue of "
                        + spec.queueSize()
                        + " is full; retry later or raise <max_instances>,"
                        + " <concurrency> or <queue_size>")
                .retryAfterSeconds(1)
                .build();
          }
          waiting++;
          queued = true;
        }
        startIfNeeded(now);
        if (remaining <= 0) {
          throw Problem.of(503, "queue-timeout", "Service Unavailable")
              .function(spec.id())
              .detail(
                  "no instance of function '"
                      + spec.id()
                      + "' became free within its queue_timeout of "
                      + human(spec.queueTimeout())
                      + "; retry later or raise <max_instances>")
              .retryAfterSeconds(1)
              .build();
        }
        try {
          remaining = changed.awaitNanos(remaining);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new ClientGoneException("client went away while waiting for function " + spec.id());
        }
      }
    } finally {
      if (queued) {
        waiting--;
        if (!acquired) {
          changed.signal(); // a slot signalled to this waiter must not be lost when it gives up
        }
      }
      lock.unlock();
    }
  }

  private Instance pickReady() {
    // Prefer the most recently started instance that has room: it keeps the others idle so they
    // can be stopped, and keeps the warmest caches busy.
    for (int i = instances.size() - 1; i >= 0; i--) {
      Instance in = instances.get(i);
      if (in.state == InstanceState.READY && in.inFlight < spec.concurrency()) {
        return in;
      }
    }
    return null;
  }

  private int countStartingOrReady() {
    int n = 0;
    for (Instance in : instances) {
      if (in.state == InstanceState.STARTING || in.state == InstanceState.READY) {
        n++;
      }
    }
    return n;
  }

  private void startIfNeeded(long now) {
    int starting = 0;
    for (Instance in : instances) {
      if (in.state == InstanceState.STARTING) {
        starting++;
      }
    }
    if (waiting > starting * spec.concurrency()
        && countStartingOrReady() < spec.maxInstances()
        && now >= backoffUntilNanos) {
      startInstance(now);
    }
  }

  private void release(Instance instance, Outcome outcome) {
    boolean stop = false;
    lock.lock();
    try {
      instance.inFlight--;
      instance.served++;
      instance.lastUsedNanos = ticker.getAsLong();
      if (outcome == Outcome.OK) {
        consecutiveFailures = 0;
      }
      if (outcome == Outcome.BROKEN && instance.state != InstanceState.STOPPED) {
        instance.state = InstanceState.DRAINING;
      }
      if (instance.state == InstanceState.READY
          && spec.maxRequestsPerInstance() > 0
          && instance.served >= spec.maxRequestsPerInstance()) {
        instance.state = InstanceState.DRAINING;
      }
      if (instance.state == InstanceState.DRAINING
          && (instance.inFlight == 0 || outcome == Outcome.BROKEN)) {
        stop = true;
      }
      if (instance.state == InstanceState.READY) {
        // One slot freed: wake one waiter, not all of them (waking every queued request to
        // let one win costs more than the call itself under load).
        changed.signal();
      } else {
        changed.signalAll();
      }
    } finally {
      lock.unlock();
    }
    if (stop) {
      stopInstance(instance);
    }
  }

  // ---- starting -----------------------------------------------------------------------------

  private void startInstance(long now) {
    Instance instance = new Instance(nextNumber, spec.id() + "#" + nextNumber, now);
    nextNumber++;
    instances.add(instance);
    Thread.ofVirtual().name("start-" + instance.label).start(() -> runStart(instance));
  }

  private void runStart(Instance instance) {
    Endpoint endpoint = null;
    ChildProcess process = null;
    try {
      endpoint = transport.prepare(new EndpointContext(spec, instance.number, runDirectory));
      Map<String, String> env = new LinkedHashMap<>(spec.env());
      env.putAll(endpoint.environment());
      List<String> command = new ArrayList<>();
      command.add(spec.executable());
      command.addAll(spec.args());
      Path workDir = spec.workingDir() != null ? spec.workingDir() : Path.of("").toAbsolutePath();
      process =
          launcher.start(new LaunchSpec(instance.label, command, workDir, env, spec.stopGrace()));
      lock.lock();
      try {
        instance.endpoint = endpoint;
        instance.process = process;
        if (closed) {
          throw new IOException("the gateway is shutting down");
        }
      } finally {
        lock.unlock();
      }
      instance.spawnedNanos = ticker.getAsLong();
      ChildProcess p = process;
      process.onExit().thenAccept(status -> onExit(instance, status));
      LOG.fine(() -> instance.label + ": started pid " + p.pid() + ", waiting for it to be ready");
      endpoint.awaitReady(spec.startupTimeout(), process.handle());
      lock.lock();
      try {
        if (instance.state == InstanceState.STARTING) {
          instance.state = InstanceState.READY;
          instance.readyNanos = ticker.getAsLong();
          instance.lastUsedNanos = instance.readyNanos;
          recordStart(instance);
          LOG.info(
              instance.label
                  + ": ready (pid "
                  + process.pid()
                  + ", "
                  + TimeUnit.NANOSECONDS.toMillis(
                      instance.readyNanos - instance.spawnRequestedNanos)
                  + " ms)");
        }
        changed.signalAll();
      } finally {
        lock.unlock();
      }
    } catch (Exception e) {
      if (e instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
      startFailed(instance, endpoint, process, e);
    }
  }

  private void startFailed(
      Instance instance, Endpoint endpoint, ChildProcess process, Exception e) {
    if (process != null) {
      process.kill();
    }
    if (endpoint != null) {
      endpoint.close();
    }
    ExitStatus status = awaitExit(process, Duration.ofSeconds(2));
    List<String> stderr = process != null ? process.recentStderr() : List.of();
    String reason = e.getMessage() != null ? e.getMessage() : e.toString();
    if (status != null && instance.exitStatus == null) {
      instance.exitStatus = status;
    }
    String exit =
        instance.exitStatus != null ? " (the process " + instance.exitStatus.describe() + ")" : "";
    LOG.warning(instance.label + ": failed to start: " + reason + exit);
    lock.lock();
    try {
      instance.state = InstanceState.STOPPED;
      instances.remove(instance);
      lastFailure =
          Problem.of(503, "start-failed", "Service Unavailable")
              .function(spec.id())
              .detail(
                  "function '"
                      + spec.id()
                      + "' did not become ready: "
                      + reason
                      + exit
                      + ". Check its <executable>, <arg> and <working_dir> in the manifest and"
                      + " its stderr (below and in the gateway log).")
              .stderr(stderr)
              .build();
      failureGeneration++;
      recordFailure();
      changed.signalAll();
    } finally {
      lock.unlock();
    }
  }

  private void onExit(Instance instance, ExitStatus status) {
    instance.exitStatus = status;
    boolean unexpected;
    lock.lock();
    try {
      if (instance.state == InstanceState.STARTING) {
        return; // awaitReady sees the death and reports it through startFailed
      }
      unexpected =
          instance.crashed || (!instance.stopRequested && instance.state != InstanceState.STOPPED);
      instance.state = InstanceState.STOPPED;
      instances.remove(instance);
      if (unexpected) {
        if (instance.readyNanos != 0
            && ticker.getAsLong() - instance.readyNanos >= HEALTHY_PERIOD_NANOS) {
          consecutiveFailures = 0;
        }
        recordFailure();
        lastFailure =
            Problem.of(503, "function-crashed", "Service Unavailable")
                .function(spec.id())
                .detail(
                    "function '"
                        + spec.id()
                        + "' keeps failing: instance "
                        + instance.label
                        + " "
                        + status.describe())
                .stderr(instance.process != null ? instance.process.recentStderr() : List.of())
                .build();
      }
      changed.signalAll();
    } finally {
      lock.unlock();
    }
    if (unexpected) {
      LOG.warning(instance.label + ": " + status.describe());
    }
    if (instance.endpoint != null) {
      instance.endpoint.close();
    }
    ensureMinimum();
  }

  /** Counts a failure and opens the back-off window from the second consecutive one. */
  private void recordFailure() {
    consecutiveFailures++;
    if (consecutiveFailures >= 2) {
      long delay = BACKOFF_BASE_NANOS << Math.min(consecutiveFailures - 2, 20);
      delay = Math.min(delay, BACKOFF_CAP_NANOS);
      // Jitter (±20%) keeps several crash-looping functions from restarting in lock step.
      double jitter = 0.8 + 0.4 * java.util.concurrent.ThreadLocalRandom.current().nextDouble();
      backoffUntilNanos = ticker.getAsLong() + (long) (delay * jitter);
    }
  }

  private Problem crashLoopProblem(long now) {
    long seconds =
        Math.max(1, TimeUnit.NANOSECONDS.toSeconds(backoffUntilNanos - now + 999_999_999));
    Problem last = lastFailure;
    return Problem.of(503, "crash-loop", "Service Unavailable")
        .function(spec.id())
        .detail(
            "function '"
                + spec.id()
                + "' failed "
                + consecutiveFailures
                + " times in a row; the gateway waits before starting it again (back-off)."
                + (last != null ? " Last failure: " + last.detail() : ""))
        .stderr(last != null ? last.stderr() : List.of())
        .retryAfterSeconds(seconds)
        .build();
  }

  // ---- stopping -----------------------------------------------------------------------------

  /**
   * Takes a hung instance out of service at once and stops it: SIGTERM to its process tree, SIGKILL
   * after its stop grace (a child that handles SIGTERM gets to clean up; one that ignores it is
   * killed all the same). Its endpoint is closed after the signal, so requests still in it fail.
   */
  private void stopHungInstance(Instance instance) {
    lock.lock();
    try {
      if (instance.state == InstanceState.STOPPED) {
        return;
      }
      instance.state = InstanceState.DRAINING;
      instance.stopRequested = true;
      changed.signalAll();
    } finally {
      lock.unlock();
    }
    if (instance.process != null) {
      instance.process.stop();
    }
    if (instance.endpoint != null) {
      instance.endpoint.close();
    }
  }

  private void stopInstance(Instance instance) {
    lock.lock();
    try {
      instance.stopRequested = true;
    } finally {
      lock.unlock();
    }
    if (instance.endpoint != null) {
      instance.endpoint.close(); // SDK children exit on end-of-file
    }
    if (instance.process != null) {
      instance.process.stop();
    }
  }

  /** Starts instances until min_instances are starting or ready (not while backing off). */
  public void ensureMinimum() {
    lock.lock();
    try {
      long now = ticker.getAsLong();
      while (!closed && countStartingOrReady() < spec.minInstances() && now >= backoffUntilNanos) {
        startInstance(now);
      }
    } finally {
      lock.unlock();
    }
  }

  /** Starts the function's first instances as its start policy asks (eager: at least one). */
  void startEagerly() {
    lock.lock();
    try {
      long now = ticker.getAsLong();
      int target = Math.max(spec.minInstances(), 1);
      while (!closed && countStartingOrReady() < target) {
        startInstance(now);
      }
    } finally {
      lock.unlock();
    }
  }

  /**
   * Stops instances idle for longer than idle_timeout (keeping min_instances) and restarts the
   * minimum after a back-off. Returns the nanoseconds until the next instance may become idle, or
   * Long.MAX_VALUE when none can.
   */
  public long cleanup(long now) {
    List<Instance> toStop = new ArrayList<>();
    long next = Long.MAX_VALUE;
    boolean belowMinimum;
    lock.lock();
    try {
      long idle = spec.idleTimeout().toNanos();
      int ready = 0;
      for (Instance in : instances) {
        if (in.state == InstanceState.READY) {
          ready++;
        }
      }
      for (Instance in : instances) {
        if (idle == 0 || in.state != InstanceState.READY || in.inFlight > 0) {
          continue;
        }
        long idleFor = now - in.lastUsedNanos;
        if (idleFor >= idle && ready > spec.minInstances()) {
          in.state = InstanceState.DRAINING;
          ready--;
          toStop.add(in);
        } else if (idleFor < idle) {
          next = Math.min(next, idle - idleFor);
        }
      }
      belowMinimum = !closed && countStartingOrReady() < spec.minInstances();
      if (belowMinimum && now < backoffUntilNanos) {
        next = Math.min(next, backoffUntilNanos - now);
      }
    } finally {
      lock.unlock();
    }
    for (Instance in : toStop) {
      LOG.info(in.label + ": idle for " + human(spec.idleTimeout()) + ", stopping");
      stopInstance(in);
    }
    if (belowMinimum) {
      ensureMinimum();
    }
    return next;
  }

  /**
   * Stops every instance without closing the pool (the admin "stop" and a cold start on demand):
   * idle instances stop now, busy ones as soon as their requests finish. The next request starts a
   * fresh instance.
   */
  public void stopInstances() {
    List<Instance> idle = new ArrayList<>();
    lock.lock();
    try {
      for (Instance in : instances) {
        if (in.state == InstanceState.READY) { // a starting instance is left to serve its waiters
          in.state = InstanceState.DRAINING;
          if (in.inFlight == 0) {
            idle.add(in);
          }
        }
      }
      changed.signalAll();
    } finally {
      lock.unlock();
    }
    for (Instance in : idle) {
      stopInstance(in);
    }
  }

  /** Takes no new requests; waiting requests get 503. */
  void close() {
    lock.lock();
    try {
      closed = true;
      changed.signalAll();
    } finally {
      lock.unlock();
    }
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

  /**
   * Stops every instance (SIGTERM, then SIGKILL after stop_grace) and returns when they are gone.
   */
  void stopAll() {
    List<Instance> all;
    lock.lock();
    try {
      closed = true;
      all = new ArrayList<>(instances);
      for (Instance in : all) {
        in.state = InstanceState.DRAINING;
      }
      changed.signalAll();
    } finally {
      lock.unlock();
    }
    for (Instance in : all) {
      stopInstance(in);
    }
    for (Instance in : all) {
      awaitExit(in.process, spec.stopGrace().plusSeconds(2));
    }
  }

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
            in.readyNanos));
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
                in.state,
                in.inFlight,
                in.served));
      }
      return out;
    } finally {
      lock.unlock();
    }
  }

  static String human(Duration d) {
    if (d.toMillis() % 1000 != 0 || d.isZero()) {
      return d.toMillis() + "ms";
    }
    long s = d.toSeconds();
    return s % 60 == 0 && s >= 60 ? (s / 60) + "m" : s + "s";
  }
}
