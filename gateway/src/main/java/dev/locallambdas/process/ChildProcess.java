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
  private static final int RECENT_OUTPUT_LINES = 50;

  /** How many of those an unasked-for exit repeats when the child's output is not logged. */
  private static final int TAIL_LINES = 10;

  /**
   * How long exit reporting waits for the output pipes to reach their end. A grandchild that
   * inherited them can keep them open indefinitely; the exit is reported anyway.
   */
  private static final long DRAIN_AFTER_EXIT_MILLIS = 1_000;

  private static final Executor VIRTUAL = r -> Thread.ofVirtual().name("child-stop").start(r);

  /** How often, and how far apart, release() looks for a group to have emptied. */
  private static final int RELEASE_ATTEMPTS = 20;

  private static final long RELEASE_PAUSE_MILLIS = 50;

  private final String label;
  private final Duration stopGrace;
  private final Process process;
  private final ProcessHandle handle;
  private final RecentLines recentStderr =
      new RecentLines(RECENT_STDERR_LINES, RECENT_STDERR_LINE_LENGTH);

  /** Both streams, each line prefixed with its stream's name, for the dashboard. */
  private final RecentLines recentOutput =
      new RecentLines(RECENT_OUTPUT_LINES, RECENT_STDERR_LINE_LENGTH);

  private final CompletableFuture<ExitStatus> exit;
  private final AtomicBoolean stopCalled = new AtomicBoolean();

  /** Completes once what the child left behind has been dealt with (see {@link #settled()}). */
  private final CompletableFuture<Void> settled = new CompletableFuture<>();

  /** The process group the child leads, or 0 when it shares the gateway's. */
  private final long group;

  /** The environment entry its processes inherit ("NAME=VALUE"), or null. */
  private final String marker;

  /** Told when the child's group is empty, so that its number may be reused; or null. */
  private final Keeper keeper;

  /** When the child started, in clock ticks after boot: nothing older can be its offspring. */
  private final long startTicks;

  /** Told each line of output (stdout and stderr), on the draining thread; see onOutput. */
  private volatile java.util.function.Consumer<String> outputListener = line -> {};

  /**
   * Tells {@code listener} every later line the child writes to stdout or stderr, on the thread
   * that drains it (so it must be quick). For a Lambda runtime's log tail.
   */
  public void onOutput(java.util.function.Consumer<String> listener) {
    outputListener = listener;
  }

  /** For a child started elsewhere (tests): no group of its own, no marker, no keeper. */
  ChildProcess(String label, Duration stopGrace, Process process) {
    this(label, stopGrace, process, 0, null, null);
  }

  /** Takes over a just-started process: starts draining its output and observing its exit. */
  ChildProcess(
      String label, Duration stopGrace, Process process, long group, String marker, Keeper keeper) {
    this.label = label;
    this.stopGrace = stopGrace;
    this.process = process;
    this.handle = process.toHandle();
    this.group = group;
    this.marker = marker;
    this.keeper = keeper;
    this.startTicks = ProcessTable.startTicks(handle.pid()).orElse(0);
    String prefix = "[" + label + "] ";
    CompletableFuture<Void> stdout =
        drain(
            "stdout",
            process.getInputStream(),
            line -> {
              recentOutput.add("stdout: " + line);
              log("stdout", prefix, line);
              outputListener.accept(line);
            });
    CompletableFuture<Void> stderr =
        drain(
            "stderr",
            process.getErrorStream(),
            line -> {
              recentStderr.add(line);
              recentOutput.add("stderr: " + line);
              log("stderr", prefix, line);
              outputListener.accept(line);
            });
    CompletableFuture<Void> drained = CompletableFuture.allOf(stdout, stderr);
    // What the child started may hold its output open; cleaning up after the child's own exit
    // therefore runs before, not after, the output is drained.
    process.onExit().thenRunAsync(this::afterExit, VIRTUAL);
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
          } else if (stopCalled.get()) {
            LOG.logp(
                Level.FINE,
                ChildProcess.class.getName(),
                "onExit",
                prefix + "process " + handle.pid() + " " + status.describe());
          } else {
            logUnaskedExit(prefix, status);
          }
        });
  }

  /**
   * An exit the gateway did not ask for (a crash, a failed start, a kill after a timeout). Its
   * reason is usually in the child's last stderr lines; when the log level hides the child's output
   * (-q), they are repeated here, at WARNING, so the reason is not lost.
   */
  private void logUnaskedExit(String prefix, ExitStatus status) {
    String what = prefix + "process " + handle.pid() + " " + status.describe();
    List<String> stderr = recentStderr.snapshot();
    if (stderr.isEmpty() || OUTPUT.isLoggable(Level.INFO)) {
      LOG.logp(Level.INFO, ChildProcess.class.getName(), "onExit", what);
      return;
    }
    List<String> tail = stderr.subList(Math.max(0, stderr.size() - TAIL_LINES), stderr.size());
    LOG.logp(
        Level.WARNING,
        ChildProcess.class.getName(),
        "onExit",
        what + "; its last lines on stderr:\n    " + String.join("\n    ", tail));
  }

  private static void log(String stream, String prefix, String line) {
    if (OUTPUT.isLoggable(Level.INFO)) {
      // logp: naming the source spares a stack walk per line
      OUTPUT.logp(Level.INFO, ChildProcess.class.getName(), stream, prefix + line);
    }
  }

  /** Drains on a pooled platform thread (see {@link ChildThreads} for why not a virtual one). */
  private CompletableFuture<Void> drain(String stream, InputStream in, Consumer<String> lines) {
    CompletableFuture<Void> done = new CompletableFuture<>();
    ChildThreads.run(
        "child-" + stream + "-" + label,
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

  /** When the process started, in clock ticks after boot (0 when it could not be read). */
  long startTicks() {
    return startTicks;
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

  /**
   * Completes after the child has exited and everything it left behind has been stopped (at once
   * when it left nothing; after the SIGKILL pass at the end of the stop grace otherwise). The
   * launch benchmark waits for it so that one sample's clean-up does not slow the next one down.
   */
  CompletableFuture<Void> settled() {
    return settled.copy();
  }

  /** The last 20 lines the child wrote to stderr, oldest first, each cut to 500 characters. */
  public List<String> recentStderr() {
    return recentStderr.snapshot();
  }

  /**
   * The last 50 lines of stdout and stderr, oldest first, each as "stdout: ..." or "stderr: ...".
   */
  public List<String> recentOutput() {
    return recentOutput.snapshot();
  }

  /**
   * Asks the child to stop: SIGTERM to every process of it (see {@link #family()}), then SIGKILL to
   * whatever of them is left after the stop grace. Idempotent; every call returns the exit.
   */
  public CompletableFuture<ExitStatus> stop() {
    if (stopCalled.compareAndSet(false, true)) {
      List<ProcessHandle> family = family();
      ProcessTree.terminate(family);
      killAfterGrace(family);
    }
    return onExit();
  }

  /** Sends SIGKILL to every process of the child now. Idempotent. */
  public void kill() {
    ProcessTree.kill(family());
  }

  /**
   * The child and everything it started that can still be found: its descendants (while their chain
   * of parents is intact), the members of its process group (orphans re-parented to init keep it),
   * and the processes whose environment carries its marker (which also reaches those that left the
   * group, as daemons do). Only a process that left the group <em>and</em> dropped the marker from
   * its environment escapes, once its parent has died.
   */
  private List<ProcessHandle> family() {
    Set<ProcessHandle> all = new LinkedHashSet<>(ProcessTree.snapshot(handle));
    all.addAll(ProcessTable.find(group, marker, startTicks));
    return List.copyOf(all);
  }

  /**
   * After the child's own exit, whether asked for or not, whatever it left behind is stopped like
   * the child: SIGTERM, then SIGKILL after the grace. A stop already does that for its part.
   */
  private void afterExit() {
    if (stopCalled.get()) {
      return; // the stop's own SIGKILL pass settles it
    }
    List<ProcessHandle> left = ProcessTable.find(group, marker, startTicks);
    if (left.isEmpty()) {
      release();
      settled.complete(null);
      return;
    }
    LOG.fine(
        () ->
            "["
                + label
                + "] the process exited; stopping "
                + left.size()
                + " process(es) it left behind");
    ProcessTree.terminate(left);
    killAfterGrace(left);
  }

  private void killAfterGrace(List<ProcessHandle> signalled) {
    CompletableFuture.delayedExecutor(stopGrace.toMillis(), TimeUnit.MILLISECONDS, VIRTUAL)
        .execute(() -> killRemaining(signalled));
  }

  private void killRemaining(List<ProcessHandle> signalled) {
    // Processes started after the SIGTERM are caught too.
    Set<ProcessHandle> remaining = new LinkedHashSet<>(signalled);
    remaining.addAll(family());
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
    release();
    settled.complete(null);
  }

  /**
   * Tells the keeper the child's group is gone once no process of it lives (a group's number stays
   * taken while one does). SIGKILL takes a moment; a group that will not empty stays registered,
   * which the keeper handles safely (it checks the leader's start time).
   */
  private void release() {
    if (keeper == null || group <= 0) {
      return;
    }
    for (int attempt = 0; attempt < RELEASE_ATTEMPTS; attempt++) {
      if (ProcessTable.find(group, null, startTicks).isEmpty()) {
        keeper.unregister(group);
        return;
      }
      try {
        Thread.sleep(RELEASE_PAUSE_MILLIS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  @Override
  public String toString() {
    return "ChildProcess[" + label + ", pid " + handle.pid() + "]";
  }
}
