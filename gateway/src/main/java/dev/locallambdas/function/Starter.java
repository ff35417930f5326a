package dev.locallambdas.function;

/**
 * Brings instances to life and ends them, for a {@link FunctionPool}: slow work (spawning, waiting
 * for readiness, signalling process trees) that the pool never does under its lock. The process
 * starter does it with real processes; the pool's unit tests use a fake that only records.
 */
interface Starter {
  /**
   * Starts {@code in} and reports back through {@link FunctionPool#spawned}, {@link
   * FunctionPool#ready} or {@link FunctionPool#startFailed}, and later {@link FunctionPool#exited}.
   * Returns at once.
   */
  void start(FunctionPool pool, Instance in);

  /**
   * Stops an instance the pool took out of service: closes its endpoint (SDK children exit on end
   * of file) and sends its process tree SIGTERM, then SIGKILL after its stop grace. A {@code hung}
   * instance is signalled before its endpoint is closed, so requests still in it fail.
   */
  void stop(FunctionPool pool, Instance in, boolean hung);

  /** Kills an instance that failed to start, at once. */
  void kill(Instance in);
}
