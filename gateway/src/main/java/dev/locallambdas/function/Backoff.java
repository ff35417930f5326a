package dev.locallambdas.function;

import java.util.concurrent.TimeUnit;
import java.util.function.DoubleSupplier;

/**
 * The crash-loop back-off of one function: the first failure restarts at once (a single crash must
 * not delay the next request); from the second consecutive failure, starting waits 250 ms doubling
 * to 30 s, with ±20 % jitter so that several crash-looping functions do not restart in lock step. A
 * success resets it. Pure: time is passed in.
 */
final class Backoff {
  static final long BASE_NANOS = TimeUnit.MILLISECONDS.toNanos(250);
  static final long CAP_NANOS = TimeUnit.SECONDS.toNanos(30);

  private final DoubleSupplier random;
  private int failures;
  private long until;

  /** {@code random} gives numbers in [0, 1) for the jitter. */
  Backoff(DoubleSupplier random) {
    this.random = random;
  }

  void failed(long now) {
    failures++;
    if (failures >= 2) {
      long delay = Math.min(BASE_NANOS << Math.min(failures - 2, 20), CAP_NANOS);
      until = now + (long) (delay * (0.8 + 0.4 * random.getAsDouble()));
    }
  }

  void succeeded() {
    failures = 0;
  }

  /** The failure count restarts, e.g. after an instance that had been healthy for a while died. */
  void forgive() {
    failures = 0;
  }

  boolean active(long now) {
    return now < until;
  }

  long until() {
    return until;
  }

  int failures() {
    return failures;
  }
}
