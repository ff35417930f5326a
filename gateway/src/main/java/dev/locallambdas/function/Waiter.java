package dev.locallambdas.function;

import io.netty.channel.EventLoop;

/**
 * A request waiting for a slot of a function's instances. The pool tells it exactly once, from any
 * thread and never under its lock: {@link #granted} or {@link #refused} — unless the request
 * cancelled its {@link Ticket} first. An implementation hops to its own loop as needed.
 */
public interface Waiter {
  /** The loop the request lives on: an instance on the same loop is preferred. */
  EventLoop loop();

  /** A slot is the request's; it must {@link Lease#release} it exactly once. */
  void granted(Lease lease);

  /** No slot will come: the function is shutting down, full, crash-looping, or failed to start. */
  void refused(dev.locallambdas.exchange.Problem problem);
}
