package dev.locallambdas.process;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The platform threads that block on a child's behalf: draining its stdout and stderr, and waiting
 * for its exit when it was started by posix_spawn. Not virtual threads: a read from a pipe or a
 * waitpid pins its carrier (the JDK then compensates with extra carriers, up to 256), so hundreds
 * of idle children could exhaust the virtual thread scheduler and stall the rest of the gateway.
 * Cached rather than created per child: a new instance reuses the threads of instances that have
 * exited, sparing a thread creation (a clone and a stack mapping) for each of them on every start.
 */
final class ChildThreads {
  private static final Logger LOG = Logger.getLogger("dev.locallambdas.process");

  private static final ExecutorService POOL =
      Executors.newCachedThreadPool(
          Thread.ofPlatform()
              .name("child-io-", 0)
              .daemon(true)
              .uncaughtExceptionHandler(
                  (t, e) -> LOG.log(Level.SEVERE, "thread " + t.getName() + " died", e))
              .factory());

  private ChildThreads() {}

  /** Runs {@code task} on a pooled thread named {@code name} while it runs (for thread dumps). */
  static void run(String name, Runnable task) {
    POOL.execute(
        () -> {
          Thread thread = Thread.currentThread();
          String idle = thread.getName();
          thread.setName(name);
          try {
            task.run();
          } finally {
            thread.setName(idle);
          }
        });
  }
}
