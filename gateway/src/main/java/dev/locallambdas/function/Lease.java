package dev.locallambdas.function;

import dev.locallambdas.process.ChildProcess;
import dev.locallambdas.process.ExitStatus;
import dev.locallambdas.transport.Endpoint;
import dev.locallambdas.transport.Outcome;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One request's slot on one instance, from the grant until {@link #release}. Released exactly once:
 * with the call's outcome, or unused when the request no longer needed it.
 */
public final class Lease {
  private final FunctionPool pool;
  final Instance instance;
  private final boolean cold;
  private final AtomicBoolean released = new AtomicBoolean();

  Lease(FunctionPool pool, Instance instance, boolean cold) {
    this.pool = pool;
    this.instance = instance;
    this.cold = cold;
  }

  public Endpoint endpoint() {
    return instance.endpoint;
  }

  /** "function#3". */
  public String label() {
    return instance.label;
  }

  public long pid() {
    ChildProcess p = instance.process;
    return p != null ? p.pid() : -1;
  }

  /** True when this is the first request of a freshly started instance. */
  public boolean cold() {
    return cold;
  }

  /** The instance's last stderr lines (they often explain a failure). */
  public List<String> recentStderr() {
    ChildProcess p = instance.process;
    return p != null ? p.recentStderr() : List.of();
  }

  /**
   * The instance's exit status if its process ends within {@code wait} (a broken connection is
   * usually followed by the exit within milliseconds), else null. Never fails.
   */
  public CompletableFuture<ExitStatus> exitWithin(Duration wait) {
    ChildProcess p = instance.process;
    if (p == null) {
      return CompletableFuture.completedFuture(null);
    }
    return p.onExit()
        .completeOnTimeout(null, wait.toMillis(), TimeUnit.MILLISECONDS)
        .exceptionally(t -> null);
  }

  /** The call is over; the outcome tells the pool how the instance fared. */
  public void release(Outcome outcome) {
    if (released.compareAndSet(false, true)) {
      pool.release(this, outcome);
    }
  }

  /** The request went away before using the slot: give it back without counting a request. */
  public void returnUnused() {
    if (released.compareAndSet(false, true)) {
      pool.release(this, null);
    }
  }
}
