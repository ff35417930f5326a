package dev.locallambdas.process;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The gateway's keeper: a small /bin/sh process (keeper.sh) that outlives the gateway just long
 * enough to kill what the gateway started. It holds the read end of a pipe whose write end only the
 * gateway holds (the JDK closes every other descriptor in the processes it spawns); when the
 * gateway exits, however it exits, the kernel closes that end and the keeper reads end-of-file. It
 * then sends SIGKILL to every child process group the gateway registered and to every process that
 * carries the gateway's marker in its environment, which reaches the grandchildren that the
 * parent-death signal does not (it is not inherited across fork).
 *
 * <p>The keeper runs in a session of its own and ignores SIGTERM, so that neither a terminal's
 * signals nor a service manager signalling every process of the service stop it before the gateway,
 * and without a parent-death signal, so that it survives the gateway. If it dies anyway, it is
 * started again and told every group still registered. Thread-safe.
 */
final class Keeper implements AutoCloseable {
  private static final Logger LOG = Logger.getLogger("dev.locallambdas.process");
  private static final String SCRIPT = script();
  private static final String SCRIPT_VARIABLE = "LOCAL_LAMBDAS_KEEPER_SCRIPT";

  /** The keeper's $0, which ps shows. */
  static final String NAME = "local-lambdas-keeper";

  /** Restarts after this many deaths would mean something kills it on purpose: stop trying. */
  private static final int MAX_RESTARTS = 5;

  private final String token;
  private final Optional<Path> setsid;
  private final Map<Long, Long> groups = new LinkedHashMap<>();
  private Process process;
  private OutputStream pipe;
  private int restarts;
  private boolean closed;

  private Keeper(String token, Optional<Path> setsid) {
    this.token = token;
    this.setsid = setsid;
  }

  /**
   * Starts the keeper of the processes whose environment holds {@code LOCAL_LAMBDAS_INSTANCE} with
   * a value starting "{@code token}/". Empty, with a warning, when it cannot start.
   */
  static Optional<Keeper> start(String token, Optional<Path> setsid) {
    Keeper keeper = new Keeper(token, setsid);
    synchronized (keeper) {
      try {
        keeper.launch();
      } catch (IOException e) {
        LOG.warning(
            "cannot start the keeper process (/bin/sh): "
                + e.getMessage()
                + "; processes started by functions may outlive the gateway if it is killed");
        return Optional.empty();
      }
    }
    return Optional.of(keeper);
  }

  /** The marker prefix: every child's environment holds LOCAL_LAMBDAS_INSTANCE=TOKEN/LABEL. */
  String token() {
    return token;
  }

  /** Registers the process group a child leads; {@code ticks} is the leader's start time. */
  synchronized void register(long group, long ticks) {
    if (closed) {
      return;
    }
    groups.put(group, ticks);
    send("+ " + group + " " + ticks + "\n");
  }

  /** Forgets a group once none of its processes lives (so its number may be reused). */
  synchronized void unregister(long group) {
    if (closed || groups.remove(group) == null) {
      return;
    }
    send("- " + group + "\n");
  }

  synchronized boolean isRegistered(long group) {
    return groups.containsKey(group);
  }

  /** Must hold the lock. */
  private void launch() throws IOException {
    List<String> command = new ArrayList<>();
    setsid.ifPresent(path -> command.add(path.toString()));
    // The script travels in the environment, so that ps shows one short line for the keeper.
    command.addAll(
        List.of(
            "/bin/sh",
            "-c",
            "eval \"$" + SCRIPT_VARIABLE + "\"",
            NAME,
            token,
            Long.toString(ProcessHandle.current().pid())));
    ProcessBuilder builder =
        new ProcessBuilder(command)
            .redirectOutput(ProcessBuilder.Redirect.DISCARD)
            // Its message after the gateway died goes where the gateway's log went.
            .redirectError(ProcessBuilder.Redirect.INHERIT)
            .directory(new File("/"));
    builder.environment().put(SCRIPT_VARIABLE, SCRIPT);
    // A gateway run by a function of another gateway inherits that one's marker; its keeper must
    // not carry it, or the other gateway's sweep would kill the keeper before it does its work.
    builder.environment().remove(ChildLauncher.INSTANCE_VARIABLE);
    Process started = builder.start();
    process = started;
    pipe = started.getOutputStream();
    // A replacement is told every group still registered.
    StringBuilder all = new StringBuilder();
    groups.forEach(
        (group, ticks) -> all.append("+ ").append(group).append(' ').append(ticks).append('\n'));
    if (!all.isEmpty()) {
      send(all.toString());
    }
    started.onExit().thenRun(() -> died(started));
    LOG.fine(() -> "keeper process " + started.pid() + " started");
  }

  private synchronized void died(Process which) {
    if (closed || !which.equals(process)) {
      return;
    }
    if (restarts >= MAX_RESTARTS) {
      LOG.warning(
          "the keeper process died "
              + (restarts + 1)
              + " times; not starting it again: processes started by functions may outlive the"
              + " gateway if it is killed");
      return;
    }
    restarts++;
    LOG.warning(
        "the keeper process "
            + which.pid()
            + " died ("
            + ExitStatus.of(which.exitValue()).describe()
            + "); starting a new one");
    try {
      launch();
    } catch (IOException e) {
      LOG.warning("cannot start a new keeper process: " + e.getMessage());
    }
  }

  /** Must hold the lock. A failed write means the keeper died; {@link #died} replaces it. */
  private void send(String lines) {
    try {
      pipe.write(lines.getBytes(StandardCharsets.US_ASCII));
      pipe.flush();
    } catch (IOException e) {
      LOG.log(Level.FINE, "writing to the keeper failed (it will be restarted)", e);
    }
  }

  /**
   * Tells the keeper that the gateway is done (it has stopped its children), lets it kill whatever
   * is left, and waits for it to finish, at most {@code waitMillis}. Idempotent.
   */
  void close(long waitMillis) {
    Process last;
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
      last = process;
      send("bye\n");
      try {
        pipe.close();
      } catch (IOException e) {
        LOG.log(Level.FINE, "closing the keeper's pipe failed", e);
      }
    }
    try {
      if (!last.waitFor(waitMillis, TimeUnit.MILLISECONDS)) {
        LOG.warning("the keeper process " + last.pid() + " is still sweeping; not waiting for it");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public void close() {
    close(5_000);
  }

  private static String script() {
    try (InputStream in = Keeper.class.getResourceAsStream("keeper.sh")) {
      if (in == null) {
        throw new IllegalStateException("keeper.sh is missing from the gateway's class path");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
