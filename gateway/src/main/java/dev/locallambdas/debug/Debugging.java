package dev.locallambdas.debug;

import dev.locallambdas.manifest.FunctionSpec;
import dev.locallambdas.manifest.Manifest;
import dev.locallambdas.manifest.Protocol;
import dev.locallambdas.manifest.StartPolicy;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * Runs functions ready for their language's debugger ({@code serve --debug ID} or {@code <debug>}):
 * the debugger's options go on the command line of a function whose program is {@code java} (JDWP),
 * {@code node} (the inspector) or a Python interpreter that can import debugpy, and the function is
 * reshaped so that a paused handler is never cut off: its request, start-up and queue timeouts are
 * suspended, it keeps one instance (the debugger's port is one), started at once and never stopped
 * for idleness or a request count. Its concurrency is left as configured. See docs/debugging.md and
 * ADR 0016.
 */
public final class Debugging {
  /** A timeout "suspended": a year, so that nothing ever fires while someone is stepping. */
  public static final Duration SUSPENDED = Duration.ofDays(365);

  /** The debugger a function is started for. */
  public enum Kind {
    JDWP("Java (JDWP)", 5005),
    NODE_INSPECTOR("Node inspector", 9229),
    DEBUGPY("Python (debugpy)", 5678),
    NONE("none", 0);

    final String label;
    final int conventionalPort;

    Kind(String label, int conventionalPort) {
      this.label = label;
      this.conventionalPort = conventionalPort;
    }
  }

  /**
   * One debugged function: its debugger and port (0 when it has none), and the line that tells the
   * user how to attach (or why it starts without a debugger).
   */
  public record Session(String function, Kind kind, int port, String message) {}

  /** The manifest as it is served, and the debugged functions. */
  public record Result(Manifest manifest, List<Session> sessions) {}

  /** Whether a Python interpreter can import debugpy (a real process in production). */
  public interface PythonProbe {
    boolean hasDebugpy(FunctionSpec spec, String interpreter);
  }

  private Debugging() {}

  /**
   * Applies debugging to the functions named in {@code ids} and those with {@code <debug>}.
   *
   * @throws IllegalArgumentException naming an id that is not in the manifest
   */
  public static Result apply(Manifest manifest, Collection<String> ids, PythonProbe probe) {
    Set<String> wanted = new LinkedHashSet<>(ids);
    for (String id : wanted) {
      if (manifest.function(id) == null) {
        throw new IllegalArgumentException(
            "--debug "
                + id
                + ": the manifest has no function '"
                + id
                + "' (its functions: "
                + String.join(", ", manifest.functions().stream().map(FunctionSpec::id).toList())
                + ")");
      }
    }
    List<FunctionSpec> functions = new ArrayList<>();
    List<Session> sessions = new ArrayList<>();
    for (FunctionSpec f : manifest.functions()) {
      if (f.debugPort() == null && !wanted.contains(f.id())) {
        functions.add(f);
        continue;
      }
      Prepared p = prepare(f, probe);
      functions.add(p.spec());
      sessions.add(p.session());
    }
    return new Result(
        new Manifest(manifest.source(), manifest.originalFormat(), functions), sessions);
  }

  private record Prepared(FunctionSpec spec, Session session) {}

  private static Prepared prepare(FunctionSpec f, PythonProbe probe) {
    int requested = f.debugPort() == null ? 0 : f.debugPort();
    if (f.protocol() == Protocol.IN_PROCESS || f.protocol() == Protocol.CGI) {
      return plain(
          f,
          "'"
              + f.id()
              + "' is not debugged: a "
              + f.protocol().manifestName()
              + " function has no process of its own to attach to; it starts as usual");
    }
    String program = Path.of(f.executable()).getFileName().toString();
    Kind kind = kindOf(program);
    if (kind == Kind.NONE) {
      return plain(
          f,
          "'"
              + f.id()
              + "' is not debugged: its program "
              + program
              + " is not java, node or python, so the gateway cannot tell which debugger it"
              + " needs; it starts as usual (run your own debugger agent through <arg> or <env>,"
              + " see docs/debugging.md)");
    }
    if (kind == Kind.DEBUGPY && !probe.hasDebugpy(f, f.executable())) {
      return plain(
          f,
          "'"
              + f.id()
              + "' is not debugged: "
              + f.executable()
              + " cannot import debugpy. Install it for that interpreter ("
              + f.executable()
              + " -m pip install debugpy, or apt-get install python3-debugpy) and restart;"
              + " it starts without a debugger");
    }
    int port = pickPort(requested, kind.conventionalPort);
    List<String> args = withDebugger(kind, port, f.args());
    FunctionSpec spec =
        f.toBuilder()
            .args(args)
            .requestTimeout(SUSPENDED)
            .startupTimeout(SUSPENDED)
            .queueTimeout(SUSPENDED)
            .idleTimeout(Duration.ZERO)
            .maxRequestsPerInstance(0)
            .template(null)
            .spare(0)
            .minInstances(1)
            .maxInstances(1)
            .startPolicy(StartPolicy.EAGER)
            .build();
    String message =
        "debugging '"
            + f.id()
            + "' with "
            + kind.label
            + ": attach to 127.0.0.1:"
            + port
            + " (one instance; its timeouts are suspended)";
    return new Prepared(spec, new Session(f.id(), kind, port, message));
  }

  private static Prepared plain(FunctionSpec f, String message) {
    return new Prepared(
        f.toBuilder().noDebug().build(), new Session(f.id(), Kind.NONE, 0, message));
  }

  static Kind kindOf(String program) {
    if (program.equals("java")) {
      return Kind.JDWP;
    }
    if (program.equals("node") || program.equals("nodejs")) {
      return Kind.NODE_INSPECTOR;
    }
    if (program.matches("python(\\d+(\\.\\d+)?)?")) {
      return Kind.DEBUGPY;
    }
    return Kind.NONE;
  }

  /** The function's arguments with the debugger's in front of the program's own. */
  static List<String> withDebugger(Kind kind, int port, List<String> args) {
    String address = "127.0.0.1:" + port;
    List<String> out = new ArrayList<>();
    switch (kind) {
      case JDWP -> {
        out.add("-agentlib:jdwp=transport=dt_socket,server=y,suspend=n,address=" + address);
        out.addAll(args);
      }
      case NODE_INSPECTOR -> {
        out.add("--inspect=" + address);
        out.addAll(args);
      }
      case DEBUGPY -> {
        // Interpreter options (-u, -X dev, -W error...) stay in front; debugpy takes the script,
        // -m module or -c code that follows.
        int i = 0;
        while (i < args.size()
            && args.get(i).startsWith("-")
            && !args.get(i).equals("-m")
            && !args.get(i).equals("-c")
            && !args.get(i).equals("-")) {
          String a = args.get(i++);
          if ((a.equals("-X") || a.equals("-W")) && i < args.size()) {
            i++;
          }
        }
        out.addAll(args.subList(0, i));
        out.addAll(List.of("-m", "debugpy", "--listen", address));
        out.addAll(args.subList(i, args.size()));
      }
      case NONE -> out.addAll(args);
    }
    return out;
  }

  /**
   * The port asked for; for 0 the language's usual one (5005, 9229, 5678) when it is free, so that
   * an IDE's default attach configuration works, else any free one.
   */
  static int pickPort(int requested, int conventional) {
    if (requested != 0) {
      return requested;
    }
    if (conventional != 0 && free(conventional)) {
      return conventional;
    }
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new IllegalStateException("no free port for a debugger: " + e.getMessage(), e);
    }
  }

  private static boolean free(int port) {
    try (ServerSocket s = new ServerSocket()) {
      s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  /** Asks the interpreter itself, in the function's directory and environment. */
  public static boolean probeDebugpy(FunctionSpec spec, String interpreter) {
    ProcessBuilder pb =
        new ProcessBuilder(interpreter, "-c", "import debugpy")
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.DISCARD);
    if (spec.workingDir() != null) {
      pb.directory(spec.workingDir().toFile());
    }
    pb.environment().putAll(spec.env());
    try {
      Process p = pb.start();
      if (!p.waitFor(10, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        return false;
      }
      return p.exitValue() == 0;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }
}
