package dev.locallambdas.clock;

/**
 * Where the gateway's time comes from, in nanoseconds of a monotonic clock. Every timeout, idle
 * stop, back-off and cache expiry reads time through one of these, so tests advance a fake clock
 * instead of sleeping.
 */
@FunctionalInterface
public interface Clock {
  long nanoTime();

  /** The JVM's monotonic clock. */
  static Clock system() {
    return System::nanoTime;
  }
}
