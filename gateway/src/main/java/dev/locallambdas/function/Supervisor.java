package dev.locallambdas.function;

import dev.locallambdas.clock.Cancellable;
import dev.locallambdas.clock.Clock;
import dev.locallambdas.clock.Scheduler;
import dev.locallambdas.loops.EventLoops;
import dev.locallambdas.manifest.FunctionSpec;
import dev.locallambdas.manifest.Manifest;
import dev.locallambdas.manifest.Protocol;
import dev.locallambdas.manifest.StartPolicy;
import dev.locallambdas.process.ChildLauncher;
import dev.locallambdas.transport.Transport;
import dev.locallambdas.transport.cgi.CgiTransport;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Function;
import java.util.logging.Logger;

/**
 * Owns every function's pool, the run directory and the child launcher. Starts eager functions,
 * stops idle instances (a task on the scheduler, not a thread of its own) and, at shutdown, drains
 * requests and leaves no process or socket file behind.
 */
public final class Supervisor implements AutoCloseable {
  private static final Logger LOG = Logger.getLogger("dev.locallambdas.function");
  private static final long CLEANUP_MAX_NANOS = TimeUnit.SECONDS.toNanos(1);
  private static final long CLEANUP_MIN_NANOS = TimeUnit.MILLISECONDS.toNanos(10);

  private final Map<String, FunctionPool> pools = new LinkedHashMap<>();
  private final List<ForkTemplate> templates = new ArrayList<>();
  private final ChildLauncher launcher;
  private final Path runDirectory;
  private final Clock clock;
  private final Scheduler scheduler;
  private final boolean backgroundCleanup;
  private volatile Cancellable cleanupTimer = Cancellable.NONE;
  private volatile boolean closed;

  private Supervisor(Builder b) throws IOException {
    this.clock = b.clock;
    this.scheduler = b.scheduler != null ? b.scheduler : loopScheduler(b.loops);
    this.runDirectory = RunDirectory.create();
    this.launcher = new ChildLauncher();
    this.backgroundCleanup = b.backgroundCleanup;
    for (FunctionSpec spec : b.manifest.functions()) {
      Transport transport = b.transports.apply(spec.protocol());
      if (transport instanceof CgiTransport) {
        transport = CgiTransport.under(launcher); // its programs in the keeper's care too
      }
      ForkTemplate template = null;
      if (spec.templatePreload() != null) {
        template = new ForkTemplate(spec, launcher, runDirectory, clock, scheduler);
        templates.add(template);
      }
      Starter starter =
          spec.protocol().processless()
              ? new EndpointStarter(spec, transport, runDirectory, b.loops)
              : new ProcessStarter(spec, transport, launcher, runDirectory, b.loops, template);
      pools.put(
          spec.id(),
          new FunctionPool(spec, starter, b.loops, clock, scheduler, b.observers.apply(spec)));
    }
    // Templates start in the background at once: the first request should find one ready.
    templates.forEach(ForkTemplate::start);
    for (FunctionPool pool : pools.values()) {
      if (pool.spec().startPolicy() == StartPolicy.EAGER) {
        pool.startEagerly();
      } else {
        pool.ensureMinimum();
      }
    }
    if (backgroundCleanup) {
      scheduleCleanup(CLEANUP_MAX_NANOS);
    }
  }

  /** Timers run on the event loops, spread round robin; none needs a thread of its own. */
  private static Scheduler loopScheduler(EventLoops loops) {
    return (task, delayNanos) -> Scheduler.on(loops.next()).schedule(task, delayNanos);
  }

  public static Builder builder(Manifest manifest) {
    return new Builder(manifest);
  }

  /** The pool of this function, or null. */
  public FunctionPool pool(String functionId) {
    return pools.get(functionId);
  }

  public Collection<FunctionPool> pools() {
    return pools.values();
  }

  /** The private directory (mode 0700) holding this run's socket files. */
  public Path runDirectory() {
    return runDirectory;
  }

  /** Runs idle stop for every function at time {@code now}; returns nanoseconds until the next. */
  public long cleanup(long now) {
    long next = Long.MAX_VALUE;
    for (FunctionPool pool : pools.values()) {
      next = Math.min(next, pool.cleanup(now));
    }
    return next;
  }

  private void scheduleCleanup(long delayNanos) {
    if (!closed) {
      cleanupTimer = scheduler.schedule(this::cleanupTick, delayNanos);
    }
  }

  private void cleanupTick() {
    if (closed) {
      return;
    }
    long next = CLEANUP_MAX_NANOS;
    try {
      next = cleanup(clock.nanoTime());
    } finally {
      scheduleCleanup(Math.max(CLEANUP_MIN_NANOS, Math.min(next, CLEANUP_MAX_NANOS)));
    }
  }

  /**
   * Stops taking requests, waits up to {@code drainGrace} for in-flight requests to finish, then
   * stops every instance (SIGTERM, SIGKILL after each function's stop_grace) and removes the run
   * directory. Blocks the calling thread (a shutdown hook), never an event loop.
   */
  public void shutdown(Duration drainGrace) {
    if (closed) {
      return;
    }
    closed = true;
    cleanupTimer.cancel();
    for (FunctionPool pool : pools.values()) {
      pool.close();
    }
    long deadline = System.nanoTime() + drainGrace.toNanos();
    while (System.nanoTime() < deadline && inFlight() > 0) {
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
    }
    if (inFlight() > 0) {
      LOG.warning(inFlight() + " request(s) still running after the drain grace; stopping anyway");
    }
    List<Instance> stopping = new ArrayList<>();
    Duration longest = Duration.ZERO;
    for (FunctionPool pool : pools.values()) {
      stopping.addAll(pool.stopAll());
      if (pool.spec().stopGrace().compareTo(longest) > 0) {
        longest = pool.spec().stopGrace();
      }
    }
    long waitUntil = System.nanoTime() + longest.plusSeconds(2).toNanos();
    for (Instance in : stopping) {
      if (in.process != null) {
        try {
          in.process.onExit().get(Math.max(0, waitUntil - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (Exception e) {
          // launcher.close() below kills what is left and says so
        }
      }
    }
    templates.forEach(ForkTemplate::close);
    launcher.close();
    RunDirectory.delete(runDirectory);
  }

  private int inFlight() {
    int n = 0;
    for (FunctionPool pool : pools.values()) {
      n += pool.inFlight();
    }
    return n;
  }

  @Override
  public void close() {
    shutdown(Duration.ZERO);
  }

  /** Settings for a supervisor; {@link #build} starts it. */
  public static final class Builder {
    private final Manifest manifest;
    private Function<Protocol, Transport> transports;
    private EventLoops loops;
    private Clock clock = Clock.system();
    private Scheduler scheduler;
    private boolean backgroundCleanup = true;
    private Function<FunctionSpec, PoolObserver> observers = spec -> PoolObserver.NONE;

    private Builder(Manifest manifest) {
      this.manifest = Objects.requireNonNull(manifest, "manifest");
    }

    /** Which transport serves each protocol. */
    public Builder transports(Function<Protocol, Transport> value) {
      this.transports = Objects.requireNonNull(value, "transports");
      return this;
    }

    /** The event loops the instances' connections and the timers run on. */
    public Builder loops(EventLoops value) {
      this.loops = Objects.requireNonNull(value, "loops");
      return this;
    }

    /** The clock for idle stop and back-off (tests pass a manual one). */
    public Builder clock(Clock value) {
      this.clock = Objects.requireNonNull(value, "clock");
      return this;
    }

    /** Where queue and start-up timeouts and the idle sweep are scheduled (default: the loops). */
    public Builder scheduler(Scheduler value) {
      this.scheduler = Objects.requireNonNull(value, "scheduler");
      return this;
    }

    /** Who is told about each function's lifecycle events (metrics). */
    public Builder observers(Function<FunctionSpec, PoolObserver> value) {
      this.observers = Objects.requireNonNull(value, "observers");
      return this;
    }

    /** Whether idle stop runs by itself; tests that drive {@link #cleanup} turn it off. */
    public Builder backgroundCleanup(boolean value) {
      this.backgroundCleanup = value;
      return this;
    }

    public Supervisor build() throws IOException {
      if (transports == null) {
        throw new IllegalStateException("no transports given: call transports(...)");
      }
      if (loops == null) {
        throw new IllegalStateException("no event loops given: call loops(...)");
      }
      return new Supervisor(this);
    }
  }
}
