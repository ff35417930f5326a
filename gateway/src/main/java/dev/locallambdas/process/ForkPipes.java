package dev.locallambdas.process;

import java.io.IOException;

/**
 * The stdout and stderr pipes of a child that a fork template creates rather than this gateway. The
 * template opens the write ends by path ({@code /proc/GATEWAY/fd/N}: opening a pipe there opens the
 * same pipe, which a process of the same user may do) and hands them to the child; the gateway
 * keeps the read ends, as for a child it spawned. Close it once the template has answered: the
 * gateway's write ends must go, or the drains would never see the end of the output.
 */
public final class ForkPipes implements AutoCloseable {
  private final PosixSpawn posix;
  private final int[] out;
  private final int[] err;
  private final String gatewayPid = Long.toString(ProcessHandle.current().pid());
  private boolean adopted;
  private boolean closed;

  private ForkPipes(PosixSpawn posix, int[] out, int[] err) {
    this.posix = posix;
    this.out = out;
    this.err = err;
  }

  static ForkPipes open(PosixSpawn posix) throws IOException {
    int[] out = posix.newPipe();
    try {
      return new ForkPipes(posix, out, posix.newPipe());
    } catch (IOException e) {
      posix.closeQuietly(out[0]);
      posix.closeQuietly(out[1]);
      throw e;
    }
  }

  /** Where the child's stdout is opened for writing. */
  public String stdoutPath() {
    return "/proc/" + gatewayPid + "/fd/" + out[1];
  }

  /** Where the child's stderr is opened for writing. */
  public String stderrPath() {
    return "/proc/" + gatewayPid + "/fd/" + err[1];
  }

  /** The child as a Process reading these pipes; the read ends now belong to it. */
  synchronized Process adopt(PosixSpawn reaper, int pid) throws IOException {
    if (adopted || closed) {
      throw new IllegalStateException("pipes already handed over or closed");
    }
    adopted = true;
    closeWriteEnds();
    return new SpawnedProcess(reaper, pid, out[0], err[0]);
  }

  private void closeWriteEnds() {
    posix.closeQuietly(out[1]);
    posix.closeQuietly(err[1]);
  }

  /** Closes what was not handed over. Idempotent. */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    if (!adopted) {
      closeWriteEnds();
      posix.closeQuietly(out[0]);
      posix.closeQuietly(err[0]);
    }
  }
}
