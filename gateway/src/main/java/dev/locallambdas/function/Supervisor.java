package dev.locallambdas.function;

import dev.locallambdas.manifest.FunctionSpec;
import dev.locallambdas.manifest.Manifest;
import dev.locallambdas.manifest.Protocol;
import dev.locallambdas.manifest.StartPolicy;
import dev.locallambdas.process.ChildLauncher;
import dev.locallambdas.transport.Transport;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Function;
import java.util.function.LongSupplier;
import java.util.logging.Logger;

/**
 * Owns every function's pool, the run directory, the child launcher and the timers. Starts eager
 * functions, stops idle instances in the background and, at shutdown, drains requests and leaves no
 * process or socket file behind.
 */
public final class Supervisor implements AutoCloseable {
  private static final Logger LOG = Logger.getLogger("dev.locallambdas.function");

  private final Map<String, FunctionPool> pools = new LinkedHashMap<>();
  private final ChildLauncher launcher;
  private final Path runDirectory;
  private final LongSupplier ticker;
  private final ScheduledThreadPoolExecutor timer;
  private final Thread cleaner;
  private volatile boolean closed;

  private Supervisor(Builder b) throws IOException {
    this.ticker = b.ticker;
    this.runDirectory = RunDirectory.create();
    this.launcher = new ChildLauncher();
    this.timer = new ScheduledThreadPoolExecutor(1, r -> named(r, "request-timer"));
    timer.setRemoveOnCancelPolicy(true);
    for (FunctionSpec spec : b.manifest.functions()) {
      Transport transport = b.transports.apply(spec.protocol());
      pools.put(
          spec.id(), new FunctionPool(spec, transport, launcher, runDirectory, ticker, timer));
    }
    if (b.backgroundCleanup) {
      cleaner = named(this::cleanLoop, "idle-cleaner");
      cleaner.start();
    } else {
      cleaner = null;
    }
    for (FunctionPool pool : pools.values()) {
      if (pool.spec().startPolicy() == StartPolicy.EAGER) {
        pool.startEagerly();
      } else {
        pool.ensureMinimum();
      }
    }
  }

  public static Builder builder(Manifest manifest) {
    return new Builder(manifest);
  }

  private static Thread named(Runnable r, String name) {
    Thread t = new Thread(r, name);
    t.setDaemon(true);
    t.setUncaughtExceptionHandler(
        (th, e) -> LOG.log(java.util.logging.Level.SEVERE, "thread " + th.getName() + " died", e));
    return t;
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

  private void cleanLoop() {
    long max = TimeUnit.SECONDS.toNanos(1);
    while (!closed) {
      long next = cleanup(ticker.getAsLong());
      LockSupport.parkNanos(Math.max(TimeUnit.MILLISECONDS.toNanos(10), Math.min(next, max)));
    }
  }

  /**
   * Stops taking requests, waits up to {@code drainGrace} for in-flight requests to finish, then
   * stops every instance (SIGTERM, SIGKILL after each function's stop_grace) and removes the run
   * directory.
   */
  public void shutdown(Duration drainGrace) {
    if (closed) {
      return;
    }
    closed = true;
    for (FunctionPool pool : pools.values()) {
      pool.close();
    }
    long deadline = System.nanoTime() + drainGrace.toNanos();
    while (System.nanoTime() < deadline && inFlight() > 0) {
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
    }
    if (inFlight() > 0) {
      LOG.warning(inFlight() + " request(s) still running after the drain grace; stopping anyway");
    }
    pools.values().parallelStream().forEach(FunctionPool::stopAll);
    launcher.close();
    timer.shutdownNow();
    if (cleaner != null) {
      cleaner.interrupt();
    }
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
    private LongSupplier ticker = System::nanoTime;
    private boolean backgroundCleanup = true;

    private Builder(Manifest manifest) {
      this.manifest = Objects.requireNonNull(manifest, "manifest");
    }

    /** Which transport serves each protocol. */
    public Builder transports(Function<Protocol, Transport> value) {
      this.transports = Objects.requireNonNull(value, "transports");
      return this;
    }

    /** The clock for idle stop and back-off, in nanoseconds (tests pass a fake one). */
    public Builder ticker(LongSupplier value) {
      this.ticker = Objects.requireNonNull(value, "ticker");
      return this;
    }

    /**
     * Whether a background thread runs idle stop; tests that drive {@link #cleanup} turn it off.
     */
    public Builder backgroundCleanup(boolean value) {
      this.backgroundCleanup = value;
      return this;
    }

    public Supervisor build() throws IOException {
      if (transports == null) {
        throw new IllegalStateException("no transports given: call transports(...)");
      }
      return new Supervisor(this);
    }
  }
}
