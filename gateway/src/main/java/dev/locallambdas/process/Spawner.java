package dev.locallambdas.process;

import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The one long-lived platform thread, "child-spawner", on which every child is forked. The Linux
 * parent-death signal fires when the forking <em>thread</em> exits, so forking from a short-lived
 * thread, or from a virtual thread whose carrier may come and go, would kill children at random.
 * This thread lives until {@link #close()}, and a failing task never ends it.
 */
final class Spawner implements AutoCloseable {
  private static final Logger LOG = Logger.getLogger("dev.locallambdas.process");

  /** The task that ends the thread; compared by identity, so it is an object of its own. */
  private static final Runnable STOP = new Stop();

  private static final class Stop implements Runnable {
    @Override
    public void run() {}
  }

  private final LinkedBlockingQueue<Runnable> tasks = new LinkedBlockingQueue<>();
  private final Object lock = new Object();
  private final Thread thread;
  private boolean closed;

  Spawner() {
    thread =
        Thread.ofPlatform()
            .name("child-spawner")
            .daemon(true)
            .uncaughtExceptionHandler(
                (t, e) -> LOG.log(Level.SEVERE, "thread " + t.getName() + " died", e))
            .start(this::run);
  }

  /**
   * Runs {@code work} on the spawner thread. The future fails with IllegalStateException when the
   * spawner is closed.
   */
  <T> CompletableFuture<T> submit(Callable<T> work) {
    CompletableFuture<T> result = new CompletableFuture<>();
    Runnable task =
        () -> {
          try {
            result.complete(work.call());
          } catch (Throwable t) {
            result.completeExceptionally(t);
          }
        };
    synchronized (lock) {
      if (closed) {
        result.completeExceptionally(new IllegalStateException("the child spawner is closed"));
      } else {
        tasks.add(task);
      }
    }
    return result;
  }

  boolean isSpawnerThread() {
    return Thread.currentThread() == thread;
  }

  private void run() {
    while (true) {
      Runnable task;
      try {
        task = tasks.take();
      } catch (InterruptedException e) {
        // Nobody but close() has reason to interrupt; only the STOP task ends this thread.
        continue;
      }
      if (task instanceof Stop) {
        return;
      }
      try {
        task.run();
      } catch (RuntimeException | Error e) {
        LOG.log(Level.SEVERE, "spawn task failed", e);
      }
    }
  }

  /**
   * Runs the queued tasks, then ends the thread. Children it forked get their parent-death signal
   * once it ends, so close this only after they are gone.
   */
  @Override
  public void close() {
    synchronized (lock) {
      if (closed) {
        return;
      }
      closed = true;
      tasks.add(STOP);
    }
    if (isSpawnerThread()) {
      return;
    }
    boolean interrupted = false;
    while (thread.isAlive()) {
      try {
        thread.join();
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }
}
