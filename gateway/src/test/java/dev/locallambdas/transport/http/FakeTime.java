package dev.locallambdas.transport.http;

import dev.locallambdas.clock.Cancellable;
import dev.locallambdas.clock.Clock;
import dev.locallambdas.clock.Scheduler;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.PriorityQueue;

/**
 * Time that moves only when a test says so: a clock, and a scheduler whose tasks run (on the test's
 * thread) when {@link #advance} passes their time.
 */
final class FakeTime implements Clock, Scheduler {
  private static final class Task {
    final long due;
    final long order;
    final Runnable run;
    boolean cancelled;

    Task(long due, long order, Runnable run) {
      this.due = due;
      this.order = order;
      this.run = run;
    }
  }

  private final PriorityQueue<Task> tasks =
      new PriorityQueue<>(
          (a, b) -> a.due != b.due ? Long.compare(a.due, b.due) : Long.compare(a.order, b.order));
  private long now = 1_000_000_000L;
  private long order;

  @Override
  public synchronized long nanoTime() {
    return now;
  }

  @Override
  public synchronized Cancellable schedule(Runnable task, long delayNanos) {
    Task t = new Task(now + delayNanos, order++, task);
    tasks.add(t);
    return () -> {
      synchronized (FakeTime.this) {
        t.cancelled = true;
      }
    };
  }

  /** Timers waiting to run. */
  synchronized int pending() {
    return (int) tasks.stream().filter(t -> !t.cancelled).count();
  }

  /** Moves the clock on and runs every task that became due, in order. */
  void advance(Duration by) {
    List<Runnable> due = new ArrayList<>();
    synchronized (this) {
      now += by.toNanos();
      while (!tasks.isEmpty() && tasks.peek().due <= now) {
        Task t = tasks.poll();
        if (!t.cancelled) {
          due.add(t.run);
        }
      }
    }
    due.forEach(Runnable::run);
  }
}
