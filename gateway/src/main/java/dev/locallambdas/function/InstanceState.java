package dev.locallambdas.function;

/**
 * The life of one instance. Transitions (checked by {@link #canMoveTo}): STARTING → READY →
 * DRAINING → STOPPED; STARTING → DRAINING when it is asked to stop while starting; STARTING or
 * READY → STOPPED directly when the process exits or fails to start.
 */
public enum InstanceState {
  /** Process spawned, waiting for its readiness signal. */
  STARTING,
  /** Serving requests. */
  READY,
  /** Takes no new requests; stopped when its in-flight requests finish (idle stop, recycling). */
  DRAINING,
  /** Gone: exited, killed or never started. */
  STOPPED;

  boolean canMoveTo(InstanceState next) {
    return switch (this) {
      case STARTING -> next == READY || next == DRAINING || next == STOPPED;
      case READY -> next == DRAINING || next == STOPPED;
      case DRAINING -> next == STOPPED;
      case STOPPED -> false;
    };
  }
}
