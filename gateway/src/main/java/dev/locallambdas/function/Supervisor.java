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

  /**
   * The pools in service, by function id, in manifest order: replaced as a whole (copy on write)
   * when a reload changes it, so readers never lock.
   */
  private volatile Map<String, FunctionPool> pools = Map.of();

  /**
   * Every pool that may own a process: those in service, those a reload is warming up and those it
   * retired that still drain; each with its fork template or null. Guarded by {@code this}.
   */
  private final java.util.IdentityHashMap<FunctionPool, ForkTemplate> owned =
      new java.util.IdentityHashMap<>();

  /** Instance numbers by function id, across the pools a reload replaces (labels stay unique). */
  private final Map<String, java.util.concurrent.atomic.AtomicInteger> numbers =
      new java.util.HashMap<>();

  private final Function<Protocol, Transport> transports;
  private final EventLoops loops;
  private final Function<FunctionSpec, PoolObserver> observers;
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
    this.transports = b.transports;
    this.loops = b.loops;
    this.observers = b.observers;
    List<FunctionPool> created = new ArrayList<>();
    for (FunctionSpec spec : b.manifest.functions()) {
      created.add(create(spec));
    }
    for (FunctionPool pool : created) {
      install(pool);
    }
    if (backgroundCleanup) {
      scheduleCleanup(CLEANUP_MAX_NANOS);
    }
  }

  /**
   * A pool for {@code spec}, not yet in service (a reload warms it up, then installs it); its fork
   * template, if any, starts in the background at once, so the first request finds one ready.
   */
  public FunctionPool create(FunctionSpec spec) {
    if (closed) {
      throw new IllegalStateException("the gateway is shutting down");
    }
    Transport transport = transports.apply(spec.protocol());
    if (transport instanceof CgiTransport) {
      transport = CgiTransport.under(launcher); // its programs in the keeper's care too
    }
    ForkTemplate template = null;
    if (spec.templatePreload() != null) {
      template = new ForkTemplate(spec, launcher, runDirectory, clock, scheduler);
    }
    Starter starter =
        spec.protocol().processless()
            ? new EndpointStarter(spec, transport, runDirectory, loops)
            : new ProcessStarter(spec, transport, launcher, runDirectory, loops, template);
    FunctionPool pool =
        new FunctionPool(spec, starter, loops, clock, scheduler, observers.apply(spec));
    synchronized (this) {
      pool.numberFrom(
          numbers.computeIfAbsent(
              spec.id(), k -> new java.util.concurrent.atomic.AtomicInteger(1)));
      owned.put(pool, template);
    }
    if (template != null) {
      template.start();
    }
    return pool;
  }

  /**
   * Puts {@code pool} in service under its function's id, in place of the pool there (which the
   * caller retires), and starts its first instances as the start policy asks (none when a warm-up
   * already started them).
   */
  public void install(FunctionPool pool) {
    String id = pool.spec().id();
    synchronized (this) {
      Map<String, FunctionPool> next = new LinkedHashMap<>(pools);
      next.put(id, pool);
      pools = java.util.Collections.unmodifiableMap(next);
    }
    if (pool.spec().startPolicy() == StartPolicy.EAGER) {
      pool.startEagerly();
    } else {
      pool.ensureMinimum();
    }
  }

  /**
   * Puts the pools in service in the order of {@code ids} (a reloaded manifest's order), dropping
   * any id not listed; the dropped pools are the caller's to retire.
   */
  public synchronized void order(List<String> ids) {
    Map<String, FunctionPool> next = new LinkedHashMap<>();
    for (String id : ids) {
      FunctionPool p = pools.get(id);
      if (p != null) {
        next.put(id, p);
      }
    }
    pools = java.util.Collections.unmodifiableMap(next);
  }

  /**
   * Takes {@code pool} out of service (a reload replaced or removed its function): it leaves the
   * map if still there, serves what it still gets, stops each instance once idle, and is forgotten
   * (its fork template stopped) when the last one has exited.
   */
  public void retire(FunctionPool pool) {
    synchronized (this) {
      if (pools.get(pool.spec().id()) == pool) {
        Map<String, FunctionPool> next = new LinkedHashMap<>(pools);
        next.remove(pool.spec().id());
        pools = java.util.Collections.unmodifiableMap(next);
      }
    }
    pool.retire(() -> forget(pool));
  }

  /** Stops a pool that never went into service (its warm-up failed) and everything it started. */
  public void discard(FunctionPool pool) {
    pool.stopAll();
    forget(pool);
  }

  private void forget(FunctionPool pool) {
    ForkTemplate template;
    synchronized (this) {
      template = owned.remove(pool);
    }
    if (template != null) {
      template.close();
    }
  }

  /**
   * Replaces the instances of function {@code id} after a change of its files (watch mode): its
   * fork template restarts (so forked instances import the new code), each ready instance gets a
   * new one that is ready before it drains, and a new instance that fails to start leaves the old
   * one serving ({@link FunctionPool#reloadFailure}). Returns how many instances are replaced.
   */
  public int replaceInstances(String id) {
    FunctionPool pool = pools.get(id);
    if (pool == null) {
      return 0;
    }
    ForkTemplate template;
    synchronized (this) {
      template = owned.get(pool);
    }
    if (template != null) {
      template.restart();
    }
    return pool.restart(false);
  }

  private synchronized List<FunctionPool> ownedPools() {
    return new ArrayList<>(owned.keySet());
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

  /** The pools in service, in manifest order (a snapshot: a reload may change them). */
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
    for (FunctionPool pool : ownedPools()) {
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
    List<FunctionPool> all = ownedPools();
    for (FunctionPool pool : all) {
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
    for (FunctionPool pool : all) {
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
    List<ForkTemplate> templates;
    synchronized (this) {
      templates = new ArrayList<>(owned.values());
    }
    for (ForkTemplate t : templates) {
      if (t != null) {
        t.close();
      }
    }
    launcher.close();
    RunDirectory.delete(runDirectory);
  }

  private int inFlight() {
    int n = 0;
    for (FunctionPool pool : ownedPools()) {
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
