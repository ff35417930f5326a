package dev.locallambdas.function;

/**
 * How one instance start went, in ticker nanoseconds: when the start was asked for, when the
 * process had been spawned, and when it signalled readiness (0 if it never did); whether a fork
 * template created it. The benchmark splits cold starts with these.
 */
public record StartRecord(
    int instance,
    long pid,
    long requestedNanos,
    long spawnedNanos,
    long readyNanos,
    boolean forked) {
  /** Spawn time (fork and exec, including the transport's preparation), in nanoseconds. */
  public long spawnDuration() {
    return spawnedNanos - requestedNanos;
  }

  /**
   * From spawned to ready: the child's own start-up, in nanoseconds; -1 if it never became ready.
   */
  public long readyDuration() {
    return readyNanos == 0 ? -1 : readyNanos - spawnedNanos;
  }
}
