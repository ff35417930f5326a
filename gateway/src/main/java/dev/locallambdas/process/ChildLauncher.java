package dev.locallambdas.process;

import java.io.File;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Starts child processes and makes sure none of them, nor anything they start, outlives the
 * gateway. One per gateway.
 *
 * <p>Each child is started by glibc's posix_spawn in a session of its own ({@link PosixSpawn}), or
 * where that cannot be called by the JDK through util-linux {@code setsid}, and runs under {@code
 * setpriv --pdeathsig KILL} (see {@link Wrappers}): it leads a session and process group of its
 * own, so a terminal's Ctrl-C reaches only the gateway, which drains before it stops anything; and
 * the kernel kills it when the gateway dies. Its environment holds {@code
 * LOCAL_LAMBDAS_INSTANCE=TOKEN/LABEL}, a marker its own children inherit. A stop reaches the
 * child's descendants, its process group and every process carrying its marker (see {@link
 * ChildProcess#stop()}); when the gateway dies, its {@link Keeper} kills the registered groups and
 * marked processes.
 *
 * <p>Every child is forked on one long-lived platform thread, "child-spawner", because the
 * parent-death signal fires when the forking thread ends. {@link #close()} stops all children that
 * are still alive and waits for them.
 */
public final class ChildLauncher implements AutoCloseable {
  private static final Logger LOG = Logger.getLogger("dev.locallambdas.process");

  /** The environment variable that marks every process of a child: TOKEN/LABEL. */
  public static final String INSTANCE_VARIABLE = "LOCAL_LAMBDAS_INSTANCE";

  /** Added to the longest stop grace when close() waits: SIGKILL takes effect promptly. */
  private static final Duration CLOSE_SLACK = Duration.ofSeconds(5);

  /** How long close() lets the keeper sweep for processes left behind. */
  private static final long KEEPER_SWEEP_MILLIS = 5_000;

  private final Spawner spawner = new Spawner();
  private final String token = newToken();
  private final CompletableFuture<Setup> setup;
  private final Set<ChildProcess> children = ConcurrentHashMap.newKeySet();
  private final AtomicBoolean closed = new AtomicBoolean();

  /**
   * What spawning needs, found once on the spawner thread so the constructor does not wait. {@code
   * posix} is null when children are started the JDK's way.
   */
  private record Setup(Wrappers wrappers, PosixSpawn posix, Keeper keeper) {}

  /**
   * Uses posix_spawn when it can, the wrappers installed on this machine, and a keeper. The system
   * property {@code locallambdas.spawn=jdk} starts children the JDK's way even where posix_spawn
   * works: for side-by-side measurements, and as a way out should it misbehave somewhere.
   */
  public ChildLauncher() {
    this(Wrappers::installed, true, !"jdk".equals(System.getProperty("locallambdas.spawn", "")));
  }

  ChildLauncher(Supplier<Wrappers> wrappers, boolean keeper) {
    this(wrappers, keeper, true);
  }

  /**
   * {@code posixSpawn} false starts every child the JDK's way (ProcessBuilder, through setsid), as
   * happens anyway where posix_spawn cannot be called (see {@link PosixSpawn}).
   */
  ChildLauncher(Supplier<Wrappers> wrappers, boolean keeper, boolean posixSpawn) {
    setup =
        spawner.submit(
            () -> {
              PosixSpawn posix = posixSpawn ? PosixSpawn.load().orElse(null) : null;
              Wrappers found = wrappers.get();
              found.missing(posix != null).ifPresent(LOG::warning);
              return new Setup(
                  found, posix, keeper ? Keeper.start(token, found.setsid()).orElse(null) : null);
            });
  }

  private static String newToken() {
    byte[] b = new byte[8];
    new SecureRandom().nextBytes(b);
    return HexFormat.of().formatHex(b);
  }

  /** True when children are started by posix_spawn (see {@link PosixSpawn}), not the JDK's way. */
  boolean usesPosixSpawn() {
    return setup.join().posix() != null;
  }

  /** True when children are armed to die with the gateway (setpriv was found). */
  public boolean childrenDieWithGateway() {
    return setup.join().wrappers().setpriv().isPresent();
  }

  /**
   * Starts a child. Fails with an IOException naming the program and the fix when the program or
   * the working directory cannot be found, and with IllegalStateException after {@link #close()}.
   * When the calling thread is interrupted while waiting for the spawner, a child that starts
   * anyway is killed, and InterruptedIOException is thrown.
   */
  public ChildProcess start(LaunchSpec spec) throws IOException {
    return start(spec, true);
  }

  /**
   * Starts a fork template (see {@link ForkPipes}): as {@link #start}, except that stopping it
   * leaves alone the processes carrying its marker. Those are the instances it created, which
   * inherited its environment as it was at its exec (what /proc shows) and are the gateway's own
   * children, stopped as such.
   */
  public ChildProcess startTemplate(LaunchSpec spec) throws IOException {
    return start(spec, false);
  }

  private ChildProcess start(LaunchSpec spec, boolean familyByMarker) throws IOException {
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
    String marker = INSTANCE_VARIABLE + "=" + token + "/" + label;
    environment.put(INSTANCE_VARIABLE, token + "/" + label);
    List<String> command = new ArrayList<>();
    command.add(program.toString());
    command.addAll(spec.command().subList(1, spec.command().size()));
    builder
        .directory(directory.toFile())
        .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));

    CompletableFuture<ChildProcess> started =
        spawner.submit(() -> spawn(spec, builder, command, familyByMarker ? marker : null));
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
            "cannot start '" + label + "' " + builder.command() + ": " + io.getMessage(), io);
      }
      if (cause instanceof RuntimeException re) {
        throw re;
      }
      if (cause instanceof Error error) {
        throw error;
      }
      throw new IOException("cannot start '" + label + "' " + builder.command(), cause);
    }
  }

  /** Runs on the spawner thread. */
  private ChildProcess spawn(
      LaunchSpec spec, ProcessBuilder builder, List<String> command, String marker)
      throws IOException {
    // Checked here too: close() waits for tasks queued before it, so a child started after this
    // check passes is already in the set when close() looks.
    ensureOpen();
    Setup s = setup.join(); // done: it was the first task of this thread
    Process process;
    long group;
    if (s.posix() != null) {
      List<String> argv = new ArrayList<>(s.wrappers().parentDeathPrefix());
      argv.addAll(command);
      builder.command(argv);
      process = s.posix().start(argv, builder.environment(), builder.directory().toPath());
      group = process.pid(); // the new session's process group is numbered by the child's pid
    } else {
      List<String> full = new ArrayList<>(s.wrappers().prefix());
      full.addAll(command);
      builder.command(full);
      process = builder.start();
      group = s.wrappers().setsid().isPresent() ? process.pid() : 0;
    }
    ChildProcess child =
        new ChildProcess(spec.label(), spec.stopGrace(), process, group, marker, s.keeper());
    if (group > 0 && s.keeper() != null && child.startTicks() > 0) {
      // Registered before the child can have forked much; anything it forks meanwhile carries the
      // marker, which the keeper looks for too.
      s.keeper().register(group, child.startTicks());
    }
    children.add(child);
    child.onExit().whenComplete((status, failure) -> children.remove(child));
    LOG.fine(
        () -> "[" + spec.label() + "] started process " + process.pid() + ": " + builder.command());
    return child;
  }

  /**
   * Starts a short-lived program whose stdin, stdout and stderr the caller uses (a CGI program, run
   * per request), in the same care as every child: a session of its own, the parent-death signal,
   * the gateway's marker in its environment, and its process group registered with the keeper while
   * it runs, so that nothing of it outlives the gateway, even one killed with SIGKILL. Started the
   * JDK's way (posix_spawn here drains the output into the log), on the spawner thread (the
   * parent-death signal follows the forking thread). The caller reaps it; its group is forgotten
   * when it exits.
   */
  public Process startPiped(LaunchSpec spec) throws IOException {
    ensureOpen();
    Path directory =
        spec.workingDirectory() == null
            ? Path.of("").toAbsolutePath()
            : spec.workingDirectory().toAbsolutePath();
    ProcessBuilder builder = new ProcessBuilder().directory(directory.toFile());
    Map<String, String> environment = builder.environment();
    environment.putAll(spec.extraEnvironment());
    environment.put(INSTANCE_VARIABLE, token + "/" + spec.label());
    Path program =
        ProgramLookup.resolve(
            spec.command().getFirst(), directory, environment.get("PATH"), spec.label());
    CompletableFuture<Process> started =
        spawner.submit(
            () -> {
              ensureOpen();
              Setup s = setup.join();
              List<String> argv = new ArrayList<>(s.wrappers().prefix());
              argv.add(program.toString());
              argv.addAll(spec.command().subList(1, spec.command().size()));
              Process p = builder.command(argv).start();
              long group = s.wrappers().setsid().isPresent() ? p.pid() : 0;
              long ticks = ProcessTable.startTicks(p.pid()).orElse(0);
              if (group > 0 && s.keeper() != null && ticks > 0) {
                s.keeper().register(group, ticks);
                p.onExit().thenRun(() -> s.keeper().unregister(group));
              }
              return p;
            });
    try {
      return started.get();
    } catch (InterruptedException e) {
      started.thenAccept(Process::destroyForcibly);
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted while starting '" + spec.label() + "'");
    } catch (ExecutionException e) {
      if (e.getCause() instanceof IOException io) {
        throw io;
      }
      throw new IOException("cannot start '" + spec.label() + "': " + e.getCause(), e.getCause());
    }
  }

  /**
   * True when children created by another process (a fork template) can be taken over: they need
   * this gateway's pipes and its waitpid, i.e. posix_spawn through FFM.
   */
  public boolean canAdopt() {
    return setup.join().posix() != null;
  }

  /** What LOCAL_LAMBDAS_INSTANCE must say in the environment of the child labelled so. */
  public String instanceMarker(String label) {
    return token + "/" + label;
  }

  /** New output pipes for a child that another process will create; see {@link #adopt}. */
  public ForkPipes forkPipes() throws IOException {
    ensureOpen();
    PosixSpawn posix = setup.join().posix();
    if (posix == null) {
      throw new IOException("children cannot be adopted: posix_spawn through FFM is unavailable");
    }
    return ForkPipes.open(posix);
  }

  /**
   * Takes over {@code pid}, a child of this gateway created by a fork template with clone's
   * CLONE_PARENT, that writes to {@code pipes} and leads a session of its own: from here on it is a
   * child like one this launcher started (output drained, exit reaped, registered with the keeper,
   * stopped with its family). The gateway's write ends of the pipes are closed.
   */
  public ChildProcess adopt(ForkPipes pipes, long pid, String label, Duration stopGrace)
      throws IOException {
    ensureOpen();
    Setup s = setup.join();
    Process process = pipes.adopt(s.posix(), Math.toIntExact(pid));
    String marker = INSTANCE_VARIABLE + "=" + instanceMarker(label);
    ChildProcess child = new ChildProcess(label, stopGrace, process, pid, marker, s.keeper());
    if (s.keeper() != null && child.startTicks() > 0) {
      s.keeper().register(pid, child.startTicks());
    }
    children.add(child);
    child.onExit().whenComplete((status, failure) -> children.remove(child));
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
    // The keeper kills what escaped the stops (a daemon in a session of its own that kept the
    // marker) and whatever a child still running after the wait left.
    Setup s = setup.getNow(null);
    if (s != null && s.keeper() != null) {
      s.keeper().close(KEEPER_SWEEP_MILLIS);
    }
    // Ending the spawner thread fires the parent-death signal of anything left.
    spawner.close();
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }
}
