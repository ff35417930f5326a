package dev.locallambdas.cli;

import dev.locallambdas.manifest.Manifest;
import dev.locallambdas.server.Gateway;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Level;
import java.util.logging.Logger;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code local-lambdas exec MANIFEST -- COMMAND...}: a gateway on a free port for the length of one
 * command (a test suite), like {@code firebase emulators:exec}. The command finds the gateway in
 * {@code LOCAL_LAMBDAS_URL}; when it ends, the gateway drains and stops every child, and exec exits
 * with the command's status. SIGINT or SIGTERM to exec reaches the command first, then the gateway
 * stops as after serve.
 */
@Command(
    name = "exec",
    mixinStandardHelpOptions = true,
    description = {
      "Start the gateway on a free port, run COMMAND with LOCAL_LAMBDAS_URL set to its URL"
          + " (stdin, stdout and stderr inherited), stop the gateway and every child, and exit"
          + " with the command's status: e.g. local-lambdas exec manifest.xml -- pytest."
          + " Exits 125 when the gateway cannot start, 126/127 when COMMAND cannot run."
    })
final class Exec implements java.util.concurrent.Callable<Integer> {
  /** The status when the gateway itself could not start (as env and docker run use 125). */
  static final int GATEWAY_FAILED = 125;

  @Parameters(index = "0", paramLabel = "MANIFEST", description = "Path of manifest.xml.")
  Path manifest;

  @Parameters(
      index = "1..*",
      arity = "1..*",
      paramLabel = "COMMAND",
      description = "The command and its arguments, after --.")
  List<String> command = new ArrayList<>();

  @Option(
      names = "--bind",
      paramLabel = "HOST:PORT",
      defaultValue = "127.0.0.1:0",
      description = "Address to listen on (default: ${DEFAULT-VALUE}, a free port).")
  String bind;

  @Option(
      names = "--drain-grace",
      paramLabel = "DURATION",
      defaultValue = "10s",
      description = "How long in-flight requests may take to finish at the end.")
  String drainGrace;

  @Option(
      names = {"-q", "--quiet"},
      description = "Log warnings and errors only.")
  boolean quiet;

  @Override
  public Integer call() throws Exception {
    Level level = Main.LogOptions.fromEnvironment(System.getenv("LOCAL_LAMBDAS_LOG"));
    LogSetup.configure(quiet ? Level.WARNING : level, false);
    Duration grace = Durations.parse("--drain-grace", drainGrace);
    InetSocketAddress address = BindAddress.parse("--bind", bind);
    Manifest m = Main.check(manifest);
    if (m == null) {
      return GATEWAY_FAILED;
    }
    Gateway gateway;
    try {
      gateway = Gateway.builder(m).bind(address).start();
    } catch (IOException e) {
      System.err.println(
          "local-lambdas: " + BindFailure.explain(address, e).orElse(e.getMessage()));
      return GATEWAY_FAILED;
    }
    String url = "http://" + BindAddress.format(gateway.address());
    Logger.getLogger("dev.locallambdas.server")
        .info("serving " + m.functions().size() + " function(s) on " + url + " for " + command);
    ProcessBuilder pb = new ProcessBuilder(command).inheritIO();
    pb.environment().put("LOCAL_LAMBDAS_URL", url);
    Process child;
    try {
      child = pb.start();
    } catch (IOException e) {
      gateway.shutdown(Duration.ZERO);
      System.err.println("local-lambdas: cannot run " + command.getFirst() + ": " + e.getMessage());
      return onPath(command.getFirst()) ? 126 : 127; // as the shells say: not runnable, not found
    }
    AtomicBoolean stopped = new AtomicBoolean();
    // Both the main thread (the command ended) and the shutdown hook (a signal) stop the gateway;
    // the second waits for the first to finish, so the JVM never exits halfway through a stop.
    Runnable stop =
        () -> {
          synchronized (stopped) {
            if (stopped.compareAndSet(false, true)) {
              gateway.shutdown(grace);
            }
          }
        };
    // A signal to exec: the command gets SIGTERM (an interactive Ctrl-C already reached it, being
    // in the same process group) and a moment to finish its own clean-up, then the gateway stops.
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  if (child.isAlive()) {
                    child.destroy();
                    try {
                      if (!child.waitFor(grace.toMillis() + 1000, TimeUnit.MILLISECONDS)) {
                        child.destroyForcibly();
                      }
                    } catch (InterruptedException e) {
                      Thread.currentThread().interrupt();
                    }
                  }
                  stop.run();
                },
                "exec-shutdown"));
    int status = child.waitFor();
    stop.run();
    return status;
  }

  private static boolean onPath(String program) {
    if (program.contains("/")) {
      return java.nio.file.Files.exists(Path.of(program));
    }
    String path = System.getenv("PATH");
    for (String dir :
        path == null ? new String[0] : java.util.regex.Pattern.compile(":").split(path)) {
      if (!dir.isEmpty() && java.nio.file.Files.exists(Path.of(dir, program))) {
        return true;
      }
    }
    return false;
  }
}
