package dev.locallambdas.reload;

import dev.locallambdas.clock.Cancellable;
import dev.locallambdas.clock.Clock;
import dev.locallambdas.clock.Scheduler;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Turns bursts of changes into one action per key: the action runs once {@code quiet} has passed
 * without a change of that key (an editor's save is several events: a temporary file, a rename, a
 * chmod; a build writes many files), or at the latest {@code maxDelay} after the first change of
 * the burst, so that a file written without pause still takes effect. Time comes from the given
 * clock and scheduler, so tests run it on a manual clock. Thread-safe.
 */
final class Debouncer<K> {
  private final Clock clock;
  private final Scheduler scheduler;
  private final long quietNanos;
  private final long maxDelayNanos;
  private final Consumer<K> action;
  private final Map<K, Burst> bursts = new HashMap<>();
  private boolean closed;

  private static final class Burst {
    final long firstNanos;
    Cancellable timer = Cancellable.NONE;

    Burst(long firstNanos) {
      this.firstNanos = firstNanos;
    }
  }

  Debouncer(
      Clock clock, Scheduler scheduler, long quietNanos, long maxDelayNanos, Consumer<K> action) {
    this.clock = clock;
    this.scheduler = scheduler;
    this.quietNanos = quietNanos;
    this.maxDelayNanos = maxDelayNanos;
    this.action = action;
  }

  /** A change of {@code key}: (re)starts its quiet period. */
  synchronized void changed(K key) {
    if (closed) {
      return;
    }
    long now = clock.nanoTime();
    Burst b = bursts.computeIfAbsent(key, k -> new Burst(now));
    b.timer.cancel();
    long delay = Math.min(quietNanos, Math.max(0, b.firstNanos + maxDelayNanos - now));
    b.timer = scheduler.schedule(() -> fire(key, b), delay);
  }

  private void fire(K key, Burst b) {
    synchronized (this) {
      if (closed || bursts.get(key) != b) {
        return; // cancelled, or a newer burst owns the key
      }
      bursts.remove(key);
    }
    action.accept(key);
  }

  /** Drops pending actions; later changes are ignored. */
  synchronized void close() {
    closed = true;
    bursts.values().forEach(b -> b.timer.cancel());
    bursts.clear();
  }
}
