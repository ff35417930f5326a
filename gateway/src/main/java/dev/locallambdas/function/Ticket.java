package dev.locallambdas.function;

/** A request's place in the queue; {@link #cancel} takes it out (the client went away). */
public interface Ticket {
  Ticket NONE = () -> {};

  /**
   * Leaves the queue if still in it; the waiter is then told nothing. A slot already granted (the
   * grant may be on its way) must still be released by the waiter.
   */
  void cancel();
}
