package dev.locallambdas.function;

import java.util.List;

/**
 * Told about a function's lifecycle events (metrics and the dashboard's event feed). Called rarely
 * — on starts, stops and timeouts, never per request — from whichever thread reported the event,
 * possibly under the pool's lock, so an implementation records and returns: it must not block or
 * call back into the pool.
 */
public interface PoolObserver {
  /**
   * An instance became ready: {@code spawnNanos} from the start request to the running process,
   * {@code readyNanos} from there to the child's readiness signal.
   */
  void started(String instance, long pid, long spawnNanos, long readyNanos);

  /** An instance did not become ready; {@code timedOut}: its startup_timeout ran out. */
  void startFailed(String instance, String reason, boolean timedOut);

  /** An instance that had been ready has stopped; {@code lastOutput}: its last output lines. */
  void stopped(String instance, StopCause cause, String exit, List<String> lastOutput);

  /** A request gave up waiting for a slot after queue_timeout. */
  void queueTimedOut();

  PoolObserver NONE =
      new PoolObserver() {
        @Override
        public void started(String instance, long pid, long spawnNanos, long readyNanos) {}

        @Override
        public void startFailed(String instance, String reason, boolean timedOut) {}

        @Override
        public void stopped(String instance, StopCause cause, String exit, List<String> output) {}

        @Override
        public void queueTimedOut() {}
      };
}
