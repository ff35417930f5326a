package dev.locallambdas.clock;

import java.time.Duration;
import java.util.PriorityQueue;

/**
 * A clock and scheduler that move only when the test says so: {@link #advance} runs every task that
 * falls due, in time order, on the calling thread. Thread-safe, so code under test may schedule
 * from any thread.
 */
public final class ManualClock implements Clock, Scheduler {
  @SuppressWarnings("ArrayRecordComponent") // a cancel flag shared with the returned handle
  private record Task(long due, long seq, Runnable run, boolean[] cancelled) {}

  private final PriorityQueue<Task> tasks =
      new PriorityQueue<>(
          (a, b) -> a.due != b.due ? Long.compare(a.due, b.due) : Long.compare(a.seq, b.seq));
  private long now = 1_000_000_000L;
  private long seq;

  @Override
  public synchronized long nanoTime() {
    return now;
  }

  @Override
  public synchronized Cancellable schedule(Runnable task, long delayNanos) {
    boolean[] cancelled = {false};
    tasks.add(new Task(now + Math.max(0, delayNanos), seq++, task, cancelled));
    return () -> {
      synchronized (ManualClock.this) {
        cancelled[0] = true;
      }
    };
  }

  /** Moves time forward, running what falls due (tasks may schedule more). */
  public void advance(Duration d) {
    long target;
    synchronized (this) {
      target = now + d.toNanos();
    }
    while (true) {
      Task next;
      synchronized (this) {
        next = tasks.peek();
        if (next == null || next.due > target) {
          now = target;
          return;
        }
        tasks.poll();
        now = next.due;
        if (next.cancelled[0]) {
          continue;
        }
      }
      next.run.run();
    }
  }

  /** Tasks scheduled and neither run nor cancelled. */
  public synchronized int pending() {
    return (int) tasks.stream().filter(t -> !t.cancelled[0]).count();
  }
}
