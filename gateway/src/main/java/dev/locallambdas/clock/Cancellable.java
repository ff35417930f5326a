package dev.locallambdas.clock;

/** Cancels a scheduled task; cancelling a task that already ran, or twice, does nothing. */
@FunctionalInterface
public interface Cancellable {
  Cancellable NONE = () -> {};

  void cancel();
}
