package dev.locallambdas.function;

import dev.locallambdas.clock.Cancellable;
import dev.locallambdas.process.ChildProcess;
import dev.locallambdas.process.ExitStatus;
import dev.locallambdas.transport.Endpoint;
import io.netty.channel.EventLoop;

/** One process of a function and its endpoint. Mutable fields are guarded by the pool's lock. */
final class Instance {
  final int number;
  final String label;
  final long spawnRequestedNanos;

  /** The event loop the instance's connection is asked to live on. */
  final EventLoop loop;

  private InstanceState state = InstanceState.STARTING;
  int inFlight;
  int served;
  long lastUsedNanos;
  long spawnedNanos;
  long readyNanos;
  boolean stopRequested;

  /** Created by the function's fork template rather than started the plain way. */
  boolean forked;

  /** The instance broke while serving a request: its death counts as a crash. */
  boolean crashed;

  /** Why the pool took it out of service (null: it was not asked to stop). */
  StopCause stopCause;

  /** Started by a restart: once ready, one of the instances it replaces drains. */
  boolean replacement;

  Cancellable startupTimer = Cancellable.NONE;
  Endpoint endpoint;
  ChildProcess process;
  volatile ExitStatus exitStatus;

  Instance(int number, String label, long now, EventLoop loop) {
    this.number = number;
    this.label = label;
    this.spawnRequestedNanos = now;
    this.lastUsedNanos = now;
    this.loop = loop;
  }

  InstanceState state() {
    return state;
  }

  /** The one place an instance changes state; an illegal transition is a bug, not a condition. */
  void moveTo(InstanceState next) {
    if (!state.canMoveTo(next)) {
      throw new IllegalStateException(label + ": cannot go from " + state + " to " + next);
    }
    state = next;
  }

  boolean is(InstanceState s) {
    return state == s;
  }

  /** READY with a free slot. */
  boolean hasRoom(int concurrency) {
    return state == InstanceState.READY && inFlight < concurrency;
  }

  /** The loop its endpoint really uses, once known. */
  EventLoop endpointLoop() {
    Endpoint e = endpoint;
    EventLoop l = e != null ? e.loop() : null;
    return l != null ? l : loop;
  }

  @Override
  public String toString() {
    return label + "[" + state + ", inFlight=" + inFlight + "]";
  }
}
