package dev.locallambdas.clock;

import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * Runs a task once after a delay. In production every timer runs on an event loop (the one whose
 * state the task touches), so no timer thread and no lock is involved; tests pass a manual clock
 * that runs due tasks when it is advanced.
 */
@FunctionalInterface
public interface Scheduler {
  /** Runs {@code task} after {@code delayNanos}; the returned handle cancels it. */
  Cancellable schedule(Runnable task, long delayNanos);

  /** A scheduler whose tasks run on {@code executor} (an event loop). */
  static Scheduler on(EventExecutor executor) {
    return (task, delayNanos) -> {
      Future<?> f = executor.schedule(task, delayNanos, TimeUnit.NANOSECONDS);
      return () -> f.cancel(false);
    };
  }
}
