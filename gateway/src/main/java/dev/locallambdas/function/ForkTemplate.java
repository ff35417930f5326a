package dev.locallambdas.function;

import dev.locallambdas.clock.Cancellable;
import dev.locallambdas.clock.Clock;
import dev.locallambdas.clock.Scheduler;
import dev.locallambdas.manifest.FunctionSpec;
import dev.locallambdas.manifest.PythonCommand;
import dev.locallambdas.process.ChildLauncher;
import dev.locallambdas.process.ChildProcess;
import dev.locallambdas.process.ForkPipes;
import dev.locallambdas.process.LaunchSpec;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The fork template of one Python function (docs/cold-starts.md, ADR 0013): a process that has
 * imported the SDK and the function's {@code <preload>} modules and creates instances on request,
 * each in a few milliseconds instead of an interpreter's start. The script it runs is {@code
 * template.py} beside this class, which says how an instance is created.
 *
 * <p>It never makes a start fail: {@link #fork} returns null whenever the template cannot serve
 * (starting, dead, backing off, not possible here), and the caller starts the instance the plain
 * way. A template that dies is restarted with the crash-loop back-off; one that says forking is not
 * possible (threads started at import, not Linux) is not restarted. The control connection is a
 * Unix socket read with blocking calls on the starting virtual thread; it carries a few short
 * messages per start, never a request, so it stays off the event loops.
 */
final class ForkTemplate {
  private static final Logger LOG = Logger.getLogger("dev.locallambdas.function");
  private static final long FORK_TIMEOUT_NANOS = TimeUnit.SECONDS.toNanos(2);
  private static final AtomicInteger SOCKETS = new AtomicInteger();
  private static final Object SCRIPT_LOCK = new Object();

  /** Where the template is; every change goes through {@link #moveTo}. */
  enum State {
    IDLE,
    STARTING,
    READY,
    /** Dead or failed; a restart is scheduled after the back-off. */
    WAITING,
    /** Forking cannot work for this function here; instances start the plain way. */
    UNSUPPORTED,
    CLOSED;

    boolean canMoveTo(State next) {
      return next == CLOSED && this != CLOSED
          || switch (this) {
            case IDLE, WAITING -> next == STARTING;
            case STARTING -> next == READY || next == WAITING || next == UNSUPPORTED;
            case READY -> next == WAITING;
            case UNSUPPORTED, CLOSED -> false;
          };
    }
  }

  private final FunctionSpec spec;
  private final PythonCommand command;
  private final ChildLauncher launcher;
  private final Path runDirectory;
  private final Clock clock;
  private final Scheduler scheduler;
  private final Backoff backoff = new Backoff(Math::random);

  /** Guards the fields below; held for a whole fork exchange (the template serves one at once). */
  private final ReentrantLock lock = new ReentrantLock();

  private State state = State.IDLE;
  private int generation;
  private ChildProcess process;
  private SocketChannel channel;
  private InputStream answers;
  private Cancellable retry = Cancellable.NONE;

  /** The files changed while the template was starting: replace it as soon as it is ready. */
  private boolean restartWhenReady;

  ForkTemplate(
      FunctionSpec spec,
      ChildLauncher launcher,
      Path runDirectory,
      Clock clock,
      Scheduler scheduler) {
    this.spec = spec;
    this.command = PythonCommand.parse(spec.args());
    this.launcher = launcher;
    this.runDirectory = runDirectory;
    this.clock = clock;
    this.scheduler = scheduler;
  }

  State state() {
    lock.lock();
    try {
      return state;
    } finally {
      lock.unlock();
    }
  }

  private void moveTo(State next) {
    if (!state.canMoveTo(next)) {
      throw new IllegalStateException(
          spec.id() + " template: cannot go from " + state + " to " + next);
    }
    state = next;
  }

  /** Starts the template in the background, unless it runs, is starting, or cannot work here. */
  void start() {
    int gen;
    lock.lock();
    try {
      if (state != State.IDLE && state != State.WAITING) {
        return;
      }
      moveTo(State.STARTING);
      gen = ++generation;
    } finally {
      lock.unlock();
    }
    Thread.ofVirtual().name("template-" + spec.id()).start(() -> launch(gen));
  }

  // ---------------------------------------------------------------- starting the template

  private void launch(int gen) {
    long began = clock.nanoTime();
    if (!launcher.canAdopt()) {
      unsupported(
          gen,
          null,
          "this gateway cannot take over children it did not spawn (posix_spawn through FFM is"
              + " unavailable)");
      return;
    }
    Path socket = runDirectory.resolve("t" + SOCKETS.incrementAndGet() + ".sock");
    ChildProcess started = null;
    SocketChannel ch = null;
    List<Closeable> watched = new CopyOnWriteArrayList<>();
    Cancellable timer = Cancellable.NONE;
    try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
      server.bind(UnixDomainSocketAddress.of(socket));
      watched.add(server);
      started = launcher.startTemplate(launchSpec(socket));
      // Neither the accept nor the first line waits for ever: both end when the template exits or
      // its startup_timeout passes.
      timer = scheduler.schedule(() -> closeAll(watched), spec.startupTimeout().toNanos());
      started.onExit().thenRun(() -> closeAll(watched));
      ch = server.accept();
      watched.add(ch);
      InputStream in = new BufferedInputStream(Channels.newInputStream(ch), 256);
      String first = readLine(in);
      timer.cancel();
      if (first.equals("ready")) {
        ready(gen, started, ch, in, began);
      } else if (first.startsWith("unsupported ")) {
        unsupported(gen, started, first.substring("unsupported ".length()));
      } else {
        throw new IOException("it said '" + first + "' instead of 'ready'");
      }
    } catch (IOException | RuntimeException e) {
      timer.cancel();
      String stderr = started == null ? "" : lastLines(started);
      failed(gen, started, ch, describe(e) + stderr);
    } finally {
      try {
        Files.deleteIfExists(socket);
      } catch (IOException e) {
        LOG.log(Level.FINE, "cannot remove " + socket, e);
      }
    }
  }

  private LaunchSpec launchSpec(Path socket) throws IOException {
    List<String> argv = new ArrayList<>();
    argv.add(spec.executable());
    argv.addAll(command.options());
    argv.add(script().toString());
    argv.addAll(command.program());
    Map<String, String> env = new LinkedHashMap<>(spec.env());
    env.put("LOCAL_LAMBDAS_TEMPLATE", socket.toString());
    Path sdk = sdkDirectory();
    if (sdk != null) {
      env.put("LOCAL_LAMBDAS_TEMPLATE_SDK", sdk.toString());
    }
    env.put("LOCAL_LAMBDAS_TEMPLATE_PRELOAD", String.join(",", spec.templatePreload()));
    Path workDir = spec.workingDir() != null ? spec.workingDir() : Path.of("").toAbsolutePath();
    return new LaunchSpec(spec.id() + "#template", argv, workDir, env, spec.stopGrace());
  }

  /** template.py, copied once per run directory from the gateway's resources. */
  private Path script() throws IOException {
    Path target = runDirectory.resolve("template.py");
    synchronized (SCRIPT_LOCK) {
      if (!Files.exists(target)) {
        try (InputStream in = ForkTemplate.class.getResourceAsStream("template.py")) {
          if (in == null) {
            throw new IOException("template.py is missing from the gateway's resources");
          }
          Path tmp = Files.createTempFile(runDirectory, ".template", ".py");
          Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
          Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
        }
      }
    }
    return target;
  }

  /**
   * The Python SDK shipped with this gateway, which the template imports (a function whose script
   * puts another copy on sys.path gets the preloaded one): under LOCAL_LAMBDAS_HOME (set by the
   * launcher), else beside the build (gateway/target/classes/../../../sdk/python); null if neither.
   */
  private static Path sdkDirectory() {
    String home = System.getenv("LOCAL_LAMBDAS_HOME");
    if (home != null && Files.isDirectory(Path.of(home, "sdk", "python"))) {
      return Path.of(home, "sdk", "python");
    }
    try {
      Path classes =
          Path.of(ForkTemplate.class.getProtectionDomain().getCodeSource().getLocation().toURI());
      Path repo = classes.getParent() == null ? null : classes.getParent().getParent();
      Path sdk =
          repo == null || repo.getParent() == null ? null : repo.getParent().resolve("sdk/python");
      return sdk != null && Files.isDirectory(sdk) ? sdk : null;
    } catch (Exception e) {
      return null;
    }
  }

  private void ready(int gen, ChildProcess p, SocketChannel ch, InputStream in, long began) {
    lock.lock();
    try {
      if (gen != generation || state != State.STARTING) {
        p.stop(); // closed meanwhile
        closeQuietly(ch);
        return;
      }
      moveTo(State.READY);
      process = p;
      channel = ch;
      answers = in;
      backoff.succeeded();
      if (restartWhenReady) {
        // The files changed while it was importing: what it imported may be the old code.
        restartWhenReady = false;
        replace();
        return;
      }
    } finally {
      lock.unlock();
    }
    p.onExit().thenRun(() -> died(gen, p));
    LOG.info(
        spec.id()
            + ": fork template ready (pid "
            + p.pid()
            + ", "
            + TimeUnit.NANOSECONDS.toMillis(clock.nanoTime() - began)
            + " ms)");
  }

  private void unsupported(int gen, ChildProcess p, String reason) {
    if (p != null) {
      p.stop();
    }
    lock.lock();
    try {
      if (gen != generation || state != State.STARTING) {
        return;
      }
      moveTo(State.UNSUPPORTED);
    } finally {
      lock.unlock();
    }
    LOG.warning(spec.id() + ": no fork template: " + reason + "; instances start the plain way");
  }

  /** The template died while ready (any cause): restart it after the back-off. */
  private void died(int gen, ChildProcess p) {
    lock.lock();
    try {
      if (gen != generation || state != State.READY) {
        return; // replaced or closed on purpose
      }
      dropConnection();
      moveTo(State.WAITING);
      backoff.failed(clock.nanoTime());
      scheduleRetry();
    } finally {
      lock.unlock();
    }
    LOG.warning(
        spec.id() + ": fork template (pid " + p.pid() + ") exited" + lastLines(p) + retryNote());
  }

  private void failed(int gen, ChildProcess p, SocketChannel ch, String reason) {
    if (p != null) {
      p.kill();
    }
    closeQuietly(ch);
    lock.lock();
    try {
      if (gen != generation || state != State.STARTING) {
        return;
      }
      moveTo(State.WAITING);
      backoff.failed(clock.nanoTime());
      scheduleRetry();
    } finally {
      lock.unlock();
    }
    LOG.warning(spec.id() + ": fork template failed to start: " + reason + retryNote());
  }

  /** Under the lock. */
  private void scheduleRetry() {
    long now = clock.nanoTime();
    long delay = backoff.active(now) ? backoff.until() - now : 0;
    retry = scheduler.schedule(this::start, delay);
  }

  private String retryNote() {
    lock.lock();
    try {
      long now = clock.nanoTime();
      long ms = backoff.active(now) ? TimeUnit.NANOSECONDS.toMillis(backoff.until() - now) : 0;
      return "; instances start the plain way until it is back (restart in " + ms + " ms)";
    } finally {
      lock.unlock();
    }
  }

  // ---------------------------------------------------------------- creating instances

  /**
   * Creates an instance from the template, labelled {@code label}, with {@code environment} on top
   * of the function's own; null when the template cannot do it now (the caller then starts the
   * instance the plain way). Blocks the calling (virtual) thread for the exchange, at most two
   * seconds.
   */
  ChildProcess fork(String label, Map<String, String> environment) {
    lock.lock();
    try {
      if (state != State.READY) {
        return null;
      }
      SocketChannel ch = channel;
      try (ForkPipes pipes = launcher.forkPipes()) {
        Map<String, String> env = new LinkedHashMap<>(environment);
        env.put(ChildLauncher.INSTANCE_VARIABLE, launcher.instanceMarker(label));
        write(ch, request(pipes, env));
        Cancellable timer = scheduler.schedule(() -> closeQuietly(ch), FORK_TIMEOUT_NANOS);
        String answer;
        try {
          answer = readLine(answers);
        } finally {
          timer.cancel();
        }
        if (answer.startsWith("pid ")) {
          long pid = Long.parseLong(answer.substring(4).strip());
          try {
            return launcher.adopt(pipes, pid, label, spec.stopGrace());
          } catch (IOException | RuntimeException e) {
            ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
            throw e;
          }
        }
        if (answer.startsWith("stale ")) {
          LOG.info(spec.id() + ": fork template restarts: " + answer.substring(6));
          replace();
          return null;
        }
        LOG.warning(
            label + ": the fork template could not create it (" + answer + "); a plain start");
        return null;
      }
    } catch (IOException | RuntimeException e) {
      ChildProcess p = process;
      dropConnection();
      if (p != null) {
        p.kill();
      }
      moveTo(State.WAITING);
      backoff.failed(clock.nanoTime());
      scheduleRetry();
      LOG.warning(spec.id() + ": fork template broke: " + describe(e) + "; a plain start");
      return null;
    } finally {
      lock.unlock();
    }
  }

  /**
   * Starts a fresh template now because the function's files changed (watch mode): one that is
   * ready is replaced, one waiting for its back-off starts at once. Until the new one is ready,
   * instances start the plain way, so none runs the old code.
   */
  void restart() {
    lock.lock();
    try {
      if (state == State.READY) {
        LOG.info(spec.id() + ": fork template restarts: the function's files changed");
        replace();
      } else if (state == State.WAITING) {
        retry.cancel();
        retry = scheduler.schedule(this::start, 0);
      } else if (state == State.STARTING) {
        restartWhenReady = true;
      }
    } finally {
      lock.unlock();
    }
  }

  /** Under the lock: the template exits by itself (stale); a fresh one starts now. */
  private void replace() {
    ChildProcess old = process;
    dropConnection();
    moveTo(State.WAITING);
    retry = scheduler.schedule(this::start, 0);
    if (old != null) {
      old.stop();
    }
  }

  /** Under the lock. */
  private void dropConnection() {
    closeQuietly(channel);
    channel = null;
    answers = null;
    process = null;
  }

  /** Length, then NUL-separated: stdout path, stderr path, NAME=VALUE entries. */
  private static ByteBuffer request(ForkPipes pipes, Map<String, String> env) {
    StringBuilder sb = new StringBuilder();
    sb.append(pipes.stdoutPath()).append('\0').append(pipes.stderrPath());
    for (Map.Entry<String, String> e : env.entrySet()) {
      sb.append('\0').append(e.getKey()).append('=').append(e.getValue());
    }
    byte[] payload = sb.toString().getBytes(StandardCharsets.UTF_8);
    ByteBuffer b = ByteBuffer.allocate(4 + payload.length);
    b.putInt(payload.length).put(payload).flip();
    return b;
  }

  private static void write(SocketChannel ch, ByteBuffer b) throws IOException {
    while (b.hasRemaining()) {
      ch.write(b);
    }
  }

  /** One line of the template's, without its newline; IOException at end of stream. */
  private static String readLine(InputStream in) throws IOException {
    ByteArrayOutputStream line = new ByteArrayOutputStream(64);
    while (true) {
      int c = in.read();
      if (c < 0) {
        throw new IOException("the template closed its connection");
      }
      if (c == '\n') {
        return line.toString(StandardCharsets.UTF_8);
      }
      if (line.size() > 4096) {
        throw new IOException("the template sent an overlong line");
      }
      line.write(c);
    }
  }

  // ---------------------------------------------------------------- stopping

  /** Stops the template (instances it created are unaffected: they are the gateway's children). */
  void close() {
    ChildProcess p;
    lock.lock();
    try {
      if (state == State.CLOSED) {
        return;
      }
      p = process;
      retry.cancel();
      dropConnection();
      moveTo(State.CLOSED);
    } finally {
      lock.unlock();
    }
    if (p != null) {
      p.stop();
    }
  }

  private static String lastLines(ChildProcess p) {
    List<String> lines = p.recentStderr();
    if (lines.isEmpty()) {
      return "";
    }
    return "; its last lines on stderr: "
        + String.join(" | ", lines.subList(Math.max(0, lines.size() - 5), lines.size()));
  }

  private static String describe(Exception e) {
    return e.getMessage() != null ? e.getMessage() : e.toString();
  }

  private static void closeAll(List<Closeable> all) {
    for (Closeable c : List.copyOf(all)) {
      closeQuietly(c);
    }
  }

  private static void closeQuietly(Closeable c) {
    if (c == null) {
      return;
    }
    try {
      c.close();
    } catch (IOException e) {
      LOG.log(Level.FINE, "close failed", e);
    }
  }
}
