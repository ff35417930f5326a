package dev.locallambdas.process;

import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * A child started by {@link PosixSpawn}, seen as a {@link Process}: stdout and stderr are the read
 * ends of its pipes, stdin is /dev/null (so there is nothing to write to), and a platform thread
 * waits for its exit and reaps it, as the JDK's own "process reaper" threads do for the processes
 * it starts (that thread comes from {@link ChildThreads}).
 */
final class SpawnedProcess extends Process {
  private static final Logger LOG = Logger.getLogger("dev.locallambdas.process");

  private final int pid;
  private final ProcessHandle handle;
  private final InputStream stdout;
  private final InputStream stderr;
  private final CompletableFuture<Integer> exit = new CompletableFuture<>();

  SpawnedProcess(PosixSpawn posix, int pid, int stdoutFd, int stderrFd) throws IOException {
    this.pid = pid;
    this.stdout = reopen(posix, stdoutFd);
    this.stderr = reopen(posix, stderrFd);
    // Taken before the reaper can reap: a process that has exited but is not reaped yet still has
    // its /proc entry, so the handle always exists here.
    this.handle =
        ProcessHandle.of(pid)
            .orElseThrow(() -> new IOException("process " + pid + " vanished before it was seen"));
    ChildThreads.run(
        "child-reaper-" + pid,
        () -> {
          try {
            exit.complete(posix.waitFor(pid));
          } catch (IOException | RuntimeException e) {
            LOG.log(Level.WARNING, "cannot wait for process " + pid, e);
            exit.completeExceptionally(e);
          }
        });
  }

  /**
   * The pipe's read end as a plain FileInputStream: opening /proc/self/fd/N opens the same pipe
   * again, so the JDK's own reading code serves the drain; the descriptor from pipe2 is then
   * closed.
   */
  private static InputStream reopen(PosixSpawn posix, int fd) throws IOException {
    try {
      return new FileInputStream("/proc/self/fd/" + fd);
    } finally {
      posix.closeQuietly(fd);
    }
  }

  @Override
  public OutputStream getOutputStream() {
    return OutputStream.nullOutputStream(); // stdin reads /dev/null
  }

  @Override
  public InputStream getInputStream() {
    return stdout;
  }

  @Override
  public InputStream getErrorStream() {
    return stderr;
  }

  @Override
  public int waitFor() throws InterruptedException {
    try {
      return exit.get();
    } catch (ExecutionException e) {
      throw new IllegalStateException("the exit of process " + pid + " is unknown", e.getCause());
    }
  }

  @Override
  public boolean waitFor(long timeout, TimeUnit unit) throws InterruptedException {
    try {
      exit.get(timeout, unit);
      return true;
    } catch (TimeoutException e) {
      return false;
    } catch (ExecutionException e) {
      return true;
    }
  }

  @Override
  public int exitValue() {
    Integer value = exit.getNow(null);
    if (value == null) {
      throw new IllegalThreadStateException("process " + pid + " has not exited");
    }
    return value;
  }

  @Override
  public void destroy() {
    handle.destroy();
  }

  @Override
  public Process destroyForcibly() {
    handle.destroyForcibly();
    return this;
  }

  @Override
  public boolean supportsNormalTermination() {
    return true;
  }

  @Override
  public boolean isAlive() {
    return !exit.isDone();
  }

  @Override
  public long pid() {
    return pid;
  }

  @Override
  public ProcessHandle toHandle() {
    return handle;
  }

  @Override
  public CompletableFuture<Process> onExit() {
    return exit.thenApply(value -> this);
  }

  @Override
  public String toString() {
    return "SpawnedProcess[pid=" + pid + ", exitValue=" + exit.getNow(null) + "]";
  }
}
