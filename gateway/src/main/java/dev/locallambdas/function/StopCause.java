package dev.locallambdas.function;

/** Why an instance stopped; metrics count stops by cause and the dashboard shows it. */
public enum StopCause {
  /** It exited (or broke its connection) without being asked to. */
  CRASH,
  /** A request timed out in it: the instance was killed and is replaced on demand. */
  TIMEOUT,
  /** It served max_requests_per_instance requests. */
  RECYCLE,
  /** It was idle for idle_timeout. */
  IDLE,
  /** The admin API stopped, drained or restarted it. */
  ADMIN,
  /** A manifest reload or a watched file's change replaced or removed it (docs/reload.md). */
  RELOAD,
  /** The gateway is shutting down. */
  SHUTDOWN;

  /** The label value in metrics and JSON: "crash", "timeout", ... */
  public String label() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }
}
