package dev.locallambdas.function;

/**
 * The life of one instance. Transitions: STARTING → READY → DRAINING → STOPPED, and STARTING or
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
  STOPPED
}
