package dev.locallambdas.function;

import dev.locallambdas.process.ChildProcess;
import dev.locallambdas.process.ExitStatus;
import dev.locallambdas.transport.Endpoint;

/** One process of a function and its endpoint. Mutable fields are guarded by the pool's lock. */
final class Instance {
  final int number;
  final String label;
  final long spawnRequestedNanos;

  InstanceState state = InstanceState.STARTING;
  int inFlight;
  int served;
  long lastUsedNanos;
  long spawnedNanos;
  long readyNanos;
  boolean stopRequested;

  /** The process died by itself while serving a request (set before any stop is requested). */
  boolean crashed;

  Endpoint endpoint;
  ChildProcess process;
  volatile ExitStatus exitStatus;

  Instance(int number, String label, long now) {
    this.number = number;
    this.label = label;
    this.spawnRequestedNanos = now;
    this.lastUsedNanos = now;
  }

  @Override
  public String toString() {
    return label + "[" + state + ", inFlight=" + inFlight + "]";
  }
}
