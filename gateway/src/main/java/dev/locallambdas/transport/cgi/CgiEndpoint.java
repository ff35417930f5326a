package dev.locallambdas.transport.cgi;

import dev.locallambdas.exchange.BodySource;
import dev.locallambdas.exchange.Request;
import dev.locallambdas.exchange.ResponseSink;
import dev.locallambdas.manifest.FunctionSpec;
import dev.locallambdas.process.ChildLauncher;
import dev.locallambdas.process.ExitStatus;
import dev.locallambdas.process.LaunchSpec;
import dev.locallambdas.transport.BlockingEndpoint;
import dev.locallambdas.transport.EndpointContext;
import dev.locallambdas.transport.TransportException;
import dev.locallambdas.transport.TransportException.Kind;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;

/**
 * A CGI function's endpoint: every call starts the program, on the call's own virtual thread
 * (forking is blocking by nature), writes the body to its stdin from a second virtual thread while
 * the first reads the CGI response from its stdout, and reaps it. A cancelled call kills the
 * program; closing the endpoint kills every program still running.
 */
final class CgiEndpoint extends BlockingEndpoint {
  private static final Logger LOG = Logger.getLogger("dev.locallambdas.transport.cgi");
  private static final int STDERR_LINES = 20;

  private final EndpointContext context;
  private final Path workDir;
  private final Map<Process, Boolean> running = new ConcurrentHashMap<>();
  private volatile boolean closed;
  private final ChildLauncher launcher;

  CgiEndpoint(EndpointContext context, ChildLauncher launcher) {
    this.context = context;
    this.launcher = launcher;
    FunctionSpec spec = context.function();
    this.workDir = spec.workingDir() != null ? spec.workingDir() : Path.of("").toAbsolutePath();
  }

  @Override
  public Map<String, String> environment() {
    return Map.of();
  }

  /** Nothing runs between requests: ready at once. */
  @Override
  public void awaitReady(Duration timeout, ProcessHandle process) {}

  @Override
  protected void exchange(Request request, BodySource body, ResponseSink sink) throws IOException {
    if (closed) {
      throw new TransportException(Kind.NOT_DELIVERED, context.label() + " is closed");
    }
    FunctionSpec spec = context.function();
    List<String> command = new ArrayList<>();
    command.add(spec.executable());
    command.addAll(spec.args());
    Map<String, String> env = new java.util.LinkedHashMap<>(spec.env());
    env.putAll(MetaVariables.of(request, spec, workDir));
    Process p;
    try {
      if (launcher != null) {
        p =
            launcher.startPiped(
                new LaunchSpec(context.label(), command, workDir, env, spec.stopGrace()));
      } else {
        ProcessBuilder pb = new ProcessBuilder(command).directory(workDir.toFile());
        pb.environment().putAll(env);
        p = pb.start();
      }
    } catch (IOException e) {
      throw new TransportException(
          Kind.NOT_DELIVERED, "cannot start " + spec.executable() + ": " + e.getMessage(), e);
    }
    running.put(p, Boolean.TRUE);
    ArrayDeque<String> stderr = new ArrayDeque<>();
    Thread errors = Thread.ofVirtual().start(() -> drainStderr(p.getErrorStream(), stderr));
    Thread writer = Thread.ofVirtual().start(() -> writeBody(body, p.getOutputStream()));
    Thread call = Thread.currentThread();
    // Reading a pipe does not notice an interrupt: a cancelled call's program is killed instead.
    Thread watchdog = Thread.ofVirtual().start(() -> killWhenInterrupted(call, p));
    try {
      CgiResponse.relay(p.getInputStream(), sink, () -> failure(p, stderr));
      waitFor(p);
      if (p.exitValue() != 0) {
        LOG.warning(context.label() + ": CGI program exited with " + p.exitValue());
      }
    } catch (InterruptedIOException e) {
      p.destroyForcibly();
      throw e;
    } finally {
      writer.interrupt();
      watchdog.interrupt();
      p.destroyForcibly();
      running.remove(p);
      errors.interrupt();
    }
  }

  private static void killWhenInterrupted(Thread call, Process p) {
    try {
      while (!p.waitFor(20, TimeUnit.MILLISECONDS)) {
        if (call.isInterrupted()) {
          p.destroyForcibly();
          return;
        }
      }
    } catch (InterruptedException e) {
      // the call is over
    }
  }

  private TransportException failure(Process p, ArrayDeque<String> stderr) {
    String exit = "";
    try {
      if (p.waitFor(1, TimeUnit.SECONDS)) {
        exit = " (it " + ExitStatus.of(p.exitValue()).describe() + ")";
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    String last;
    synchronized (stderr) {
      last = stderr.isEmpty() ? "" : "; its stderr ends: " + String.join(" | ", stderr);
    }
    return new TransportException(
        Kind.RESET, "the CGI program sent no complete header block" + exit + last);
  }

  private static void waitFor(Process p) throws InterruptedIOException {
    try {
      p.waitFor();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("call cancelled");
    }
  }

  /** The body to the program's stdin; a program that does not read it just closes the pipe. */
  private static void writeBody(BodySource body, OutputStream stdin) {
    try (stdin) {
      ByteBuffer chunk;
      while ((chunk = body.next()) != null) {
        stdin.write(chunk.array(), chunk.arrayOffset() + chunk.position(), chunk.remaining());
      }
    } catch (IOException e) {
      // The program exited or closed stdin before reading everything: as RFC 3875 allows.
    }
  }

  private void drainStderr(InputStream in, ArrayDeque<String> last) {
    try (in) {
      for (String line :
          new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).split("\n", -1)) {
        if (line.isBlank()) {
          continue;
        }
        LOG.info(() -> context.label() + " stderr: " + line);
        synchronized (last) {
          if (last.size() == STDERR_LINES) {
            last.removeFirst();
          }
          last.addLast(line.length() > 500 ? line.substring(0, 500) : line);
        }
      }
    } catch (IOException e) {
      // the program is gone
    }
  }

  @Override
  public void close() {
    closed = true;
    for (Process p : running.keySet()) {
      p.destroyForcibly();
    }
  }
}
