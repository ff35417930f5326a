package dev.locallambdas.process;

import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * A running (or finished) child process started by {@link ChildLauncher}. Its stdout and stderr are
 * drained all the time and logged through logger "dev.locallambdas.child" as "[label] line"; the
 * last lines of stderr are kept for error messages. Its exit is always observed and logged.
 */
public final class ChildProcess {
  private static final Logger OUTPUT = Logger.getLogger("dev.locallambdas.child");
  private static final Logger LOG = Logger.getLogger("dev.locallambdas.process");
  private static final int RECENT_STDERR_LINES = 20;
  private static final int RECENT_STDERR_LINE_LENGTH = 500;

  /**
   * How long exit reporting waits for the output pipes to reach their end. A grandchild that
   * inherited them can keep them open indefinitely; the exit is reported anyway.
   */
  private static final long DRAIN_AFTER_EXIT_MILLIS = 1_000;

  private static final Executor VIRTUAL = r -> Thread.ofVirtual().name("child-stop").start(r);

  private final String label;
  private final Duration stopGrace;
  private final Process process;
  private final ProcessHandle handle;
  private final RecentLines recentStderr =
      new RecentLines(RECENT_STDERR_LINES, RECENT_STDERR_LINE_LENGTH);
  private final CompletableFuture<ExitStatus> exit;
  private final AtomicBoolean stopCalled = new AtomicBoolean();
  private volatile boolean stopRequested;

  /** Takes over a just-started process: starts draining its output and observing its exit. */
  ChildProcess(String label, Duration stopGrace, Process process) {
    this.label = label;
    this.stopGrace = stopGrace;
    this.process = process;
    this.handle = process.toHandle();
    String prefix = "[" + label + "] ";
    CompletableFuture<Void> stdout =
        drain("stdout", process.getInputStream(), line -> log("stdout", prefix, line));
    CompletableFuture<Void> stderr =
        drain(
            "stderr",
            process.getErrorStream(),
            line -> {
              recentStderr.add(line);
              log("stderr", prefix, line);
            });
    CompletableFuture<Void> drained = CompletableFuture.allOf(stdout, stderr);
    this.exit =
        process
            .onExit()
            .thenCompose(
                p ->
                    drained
                        .copy()
                        .completeOnTimeout(null, DRAIN_AFTER_EXIT_MILLIS, TimeUnit.MILLISECONDS)
                        .handle((ignored, failure) -> ExitStatus.of(p.exitValue())));
    exit.whenComplete(
        (status, failure) -> {
          if (failure != null) {
            LOG.logp(
                Level.WARNING,
                ChildProcess.class.getName(),
                "onExit",
                prefix + "exit could not be observed",
                failure);
          } else {
            LOG.logp(
                stopRequested ? Level.FINE : Level.INFO,
                ChildProcess.class.getName(),
                "onExit",
                prefix + "process " + handle.pid() + " " + status.describe());
          }
        });
  }

  private static void log(String stream, String prefix, String line) {
    if (OUTPUT.isLoggable(Level.INFO)) {
      // logp: naming the source spares a stack walk per line
      OUTPUT.logp(Level.INFO, ChildProcess.class.getName(), stream, prefix + line);
    }
  }

  /**
   * Drains on a platform thread, not a virtual one: a read from a process pipe pins its carrier
   * (the JDK compensates with an extra carrier, up to 256), so an idle child's drain costs a
   * platform thread either way, and hundreds of them on virtual threads could exhaust the virtual
   * thread scheduler and stall the rest of the gateway.
   */
  private CompletableFuture<Void> drain(String stream, InputStream in, Consumer<String> lines) {
    CompletableFuture<Void> done = new CompletableFuture<>();
    Thread.ofPlatform()
        .name("child-" + stream + "-" + label)
        .daemon(true)
        .uncaughtExceptionHandler(
            (t, e) -> LOG.log(Level.SEVERE, "thread " + t.getName() + " died", e))
        .start(
            () -> {
              try (in) {
                OutputDrain.drain(in, OutputDrain.MAX_LINE_BYTES, keepReading(stream, lines));
              } catch (IOException | RuntimeException e) {
                LOG.log(Level.FINE, "[" + label + "] reading " + stream + " failed", e);
              } finally {
                done.complete(null);
              }
            });
    return done;
  }

  /**
   * A failing log handler must not stop the reading, or the child would block on a full pipe:
   * failures are reported once and the line is dropped.
   */
  private Consumer<String> keepReading(String stream, Consumer<String> lines) {
    AtomicBoolean reported = new AtomicBoolean();
    return line -> {
      try {
        lines.accept(line);
      } catch (RuntimeException e) {
        if (reported.compareAndSet(false, true)) {
          LOG.log(Level.WARNING, "[" + label + "] handling " + stream + " failed; going on", e);
        }
      }
    };
  }

  public String label() {
    return label;
  }

  Duration stopGrace() {
    return stopGrace;
  }

  public long pid() {
    return handle.pid();
  }

  public ProcessHandle handle() {
    return handle;
  }

  public boolean isAlive() {
    return process.isAlive();
  }

  /**
   * Completes when the process has exited and its output has been read to the end (or, when a
   * grandchild still holds the output open, shortly after the exit).
   */
  public CompletableFuture<ExitStatus> onExit() {
    return exit.copy();
  }

  /** The last 20 lines the child wrote to stderr, oldest first, each cut to 500 characters. */
  public List<String> recentStderr() {
    return recentStderr.snapshot();
  }

  /**
   * Asks the child to stop: SIGTERM to it and all its descendants, then SIGKILL to whatever of them
   * is left after the stop grace. Idempotent; every call returns the exit.
   */
  public CompletableFuture<ExitStatus> stop() {
    if (stopCalled.compareAndSet(false, true)) {
      stopRequested = true;
      List<ProcessHandle> tree = ProcessTree.snapshot(handle);
      ProcessTree.terminate(tree);
      CompletableFuture.delayedExecutor(stopGrace.toMillis(), TimeUnit.MILLISECONDS, VIRTUAL)
          .execute(() -> killRemaining(tree));
    }
    return onExit();
  }

  private void killRemaining(List<ProcessHandle> tree) {
    // Processes forked after the SIGTERM are caught too, as long as the root still lives.
    Set<ProcessHandle> remaining = new LinkedHashSet<>(tree);
    if (handle.isAlive()) {
      remaining.addAll(ProcessTree.snapshot(handle));
    }
    int hit = ProcessTree.kill(List.copyOf(remaining));
    if (hit > 0) {
      LOG.info(
          "["
              + label
              + "] "
              + hit
              + " process(es) still running "
              + stopGrace.toMillis()
              + " ms after SIGTERM; sent SIGKILL");
    }
  }

  /** Sends SIGKILL to the child and all its descendants now. Idempotent. */
  public void kill() {
    stopRequested = true;
    ProcessTree.kill(handle);
  }

  @Override
  public String toString() {
    return "ChildProcess[" + label + ", pid " + handle.pid() + "]";
  }
}
