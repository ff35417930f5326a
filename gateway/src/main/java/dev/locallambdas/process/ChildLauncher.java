package dev.locallambdas.process;

import java.io.File;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Starts child processes and makes sure none outlives the gateway. One per gateway.
 *
 * <p>Every child is forked on one long-lived platform thread, "child-spawner". When util-linux
 * {@code setpriv} is installed, each command runs as {@code setpriv --pdeathsig KILL -- command},
 * so the kernel kills the child when the gateway dies, however it dies (even by SIGKILL). {@link
 * #close()} stops all children that are still alive and waits for them.
 */
public final class ChildLauncher implements AutoCloseable {
  private static final Logger LOG = Logger.getLogger("dev.locallambdas.process");

  /** Added to the longest stop grace when close() waits: SIGKILL takes effect promptly. */
  private static final Duration CLOSE_SLACK = Duration.ofSeconds(5);

  private final Optional<Path> setpriv;
  private final Spawner spawner = new Spawner();
  private final Set<ChildProcess> children = ConcurrentHashMap.newKeySet();
  private final AtomicBoolean closed = new AtomicBoolean();

  public ChildLauncher() {
    this(ParentDeathSignal.setpriv());
    if (setpriv.isEmpty()) {
      LOG.warning(
          "setpriv with --pdeathsig not found (looked at /usr/bin/setpriv and on PATH): children"
              + " will outlive the gateway if it is killed; install the util-linux package");
    }
  }

  ChildLauncher(Optional<Path> setpriv) {
    this.setpriv = setpriv;
  }

  /** True when children are armed to die with the gateway (setpriv was found). */
  public boolean childrenDieWithGateway() {
    return setpriv.isPresent();
  }

  /**
   * Starts a child. Fails with an IOException naming the program and the fix when the program or
   * the working directory cannot be found, and with IllegalStateException after {@link #close()}.
   * When the calling thread is interrupted while waiting for the spawner, a child that starts
   * anyway is killed, and InterruptedIOException is thrown.
   */
  public ChildProcess start(LaunchSpec spec) throws IOException {
    ensureOpen();
    String label = spec.label();
    Path directory =
        spec.workingDirectory() == null
            ? Path.of("").toAbsolutePath()
            : spec.workingDirectory().toAbsolutePath();
    if (!Files.isDirectory(directory)) {
      throw new IOException(
          "cannot start '"
              + label
              + "': working directory "
              + directory
              + (Files.exists(directory) ? " is not a directory" : " does not exist"));
    }
    ProcessBuilder builder = new ProcessBuilder();
    Map<String, String> environment = builder.environment();
    environment.putAll(spec.extraEnvironment());
    Path program =
        ProgramLookup.resolve(spec.command().getFirst(), directory, environment.get("PATH"), label);
    List<String> command = new ArrayList<>();
    setpriv.ifPresent(path -> command.addAll(ParentDeathSignal.prefix(path)));
    command.add(program.toString());
    command.addAll(spec.command().subList(1, spec.command().size()));
    builder
        .command(command)
        .directory(directory.toFile())
        .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));

    CompletableFuture<ChildProcess> started = spawner.submit(() -> spawn(spec, builder));
    try {
      return started.get();
    } catch (InterruptedException e) {
      started.thenAccept(ChildProcess::kill);
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted while starting '" + label + "'");
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof IOException io) {
        throw new IOException(
            "cannot start '" + label + "' " + command + ": " + io.getMessage(), io);
      }
      if (cause instanceof RuntimeException re) {
        throw re;
      }
      if (cause instanceof Error error) {
        throw error;
      }
      throw new IOException("cannot start '" + label + "' " + command, cause);
    }
  }

  /** Runs on the spawner thread. */
  private ChildProcess spawn(LaunchSpec spec, ProcessBuilder builder) throws IOException {
    // Checked here too: close() waits for tasks queued before it, so a child started after this
    // check passes is already in the set when close() looks.
    ensureOpen();
    Process process = builder.start();
    ChildProcess child = new ChildProcess(spec.label(), spec.stopGrace(), process);
    children.add(child);
    child.onExit().whenComplete((status, failure) -> children.remove(child));
    LOG.fine(
        () -> "[" + spec.label() + "] started process " + process.pid() + ": " + builder.command());
    return child;
  }

  private void ensureOpen() {
    if (closed.get()) {
      throw new IllegalStateException("the child launcher is closed");
    }
  }

  /**
   * Stops every child still alive (SIGTERM to each and its descendants, SIGKILL after its stop
   * grace) and waits for them. Idempotent.
   */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    boolean interrupted = false;
    // Let spawns queued before the flag was set finish, so their children are in the set.
    try {
      spawner.submit(() -> null).get();
    } catch (InterruptedException e) {
      interrupted = true;
    } catch (ExecutionException e) {
      LOG.log(Level.WARNING, "child spawner failed while closing", e);
    }
    List<ChildProcess> alive = List.copyOf(children);
    Duration longestGrace = Duration.ZERO;
    List<CompletableFuture<ExitStatus>> exits = new ArrayList<>();
    for (ChildProcess child : alive) {
      exits.add(child.stop());
      if (child.stopGrace().compareTo(longestGrace) > 0) {
        longestGrace = child.stopGrace();
      }
    }
    CompletableFuture<Void> all =
        CompletableFuture.allOf(exits.toArray(new CompletableFuture<?>[0]));
    long waitMillis = longestGrace.plus(CLOSE_SLACK).toMillis();
    while (true) {
      try {
        all.get(waitMillis, TimeUnit.MILLISECONDS);
        break;
      } catch (InterruptedException e) {
        // Asked to hurry: no more grace.
        interrupted = true;
        alive.forEach(ChildProcess::kill);
      } catch (ExecutionException e) {
        break;
      } catch (TimeoutException e) {
        LOG.warning(
            "children still running "
                + waitMillis
                + " ms after SIGTERM and SIGKILL: "
                + alive.stream().filter(ChildProcess::isAlive).toList());
        break;
      }
    }
    // Ending the spawner thread fires the parent-death signal of anything left.
    spawner.close();
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }
}
