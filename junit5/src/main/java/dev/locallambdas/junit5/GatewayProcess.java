package dev.locallambdas.junit5;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A gateway process: {@code serve MANIFEST --bind 127.0.0.1:0}, ready when it prints its
 * "local-lambdas: listening on URL" line (read, never waited for with a sleep). Closed by JUnit
 * when its store goes away: SIGTERM, the gateway drains and stops every child.
 */
// CloseableResource for JUnit before 5.13, which closes only those; later versions close an
// AutoCloseable (close() is idempotent either way).
@SuppressWarnings("deprecation")
final class GatewayProcess implements ExtensionContext.Store.CloseableResource, AutoCloseable {
  private static final Pattern LISTENING =
      Pattern.compile("^local-lambdas: listening on (https?://\\S+)$");

  private static final Pattern WORDS = Pattern.compile("\\s+");

  private final Process process;
  final URI url;

  private GatewayProcess(Process process, URI url) {
    this.process = process;
    this.url = url;
  }

  static GatewayProcess start(Path manifest, List<String> args, int timeoutSeconds)
      throws IOException {
    List<String> command = new ArrayList<>(command());
    command.addAll(List.of("serve", manifest.toString(), "--bind", "127.0.0.1:0"));
    command.addAll(args);
    Process p =
        new ProcessBuilder(command)
            .redirectError(ProcessBuilder.Redirect.INHERIT)
            .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
            .start();
    // A gateway that never prints its address is ended, which ends the read below.
    Thread watchdog =
        Thread.ofVirtual()
            .start(
                () -> {
                  try {
                    if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                      p.destroyForcibly();
                    }
                  } catch (InterruptedException e) {
                    // started: the watchdog is no longer needed
                  }
                });
    BufferedReader out =
        new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
    String line;
    URI url = null;
    while ((line = out.readLine()) != null) {
      Matcher m = LISTENING.matcher(line.strip());
      if (m.matches()) {
        url = URI.create(m.group(1));
        break;
      }
    }
    watchdog.interrupt();
    if (url == null) {
      p.destroyForcibly();
      throw new IllegalStateException(
          "local-lambdas did not start (its log is above): " + String.join(" ", command));
    }
    // Keep reading (debugger lines) so that it never blocks on a full pipe.
    Thread.ofVirtual().start(() -> drain(out));
    return new GatewayProcess(p, url);
  }

  private static void drain(BufferedReader out) {
    try {
      while (out.readLine() != null) {
        // discarded
      }
    } catch (IOException e) {
      // the gateway is gone
    }
  }

  /**
   * The system property locallambdas.command or LOCAL_LAMBDAS_COMMAND (split on spaces; a first
   * word "java" is the JVM running the tests), else $LOCAL_LAMBDAS_HOME/local-lambdas, else
   * local-lambdas on PATH.
   */
  static List<String> command() {
    String given = System.getProperty("locallambdas.command");
    if (given == null || given.isBlank()) {
      given = System.getenv("LOCAL_LAMBDAS_COMMAND");
    }
    if (given != null && !given.isBlank()) {
      List<String> words = new ArrayList<>(Arrays.asList(WORDS.split(given.strip())));
      if (words.getFirst().equals("java")) {
        words.set(0, ProcessHandle.current().info().command().orElse("java"));
      }
      return words;
    }
    String home = System.getenv("LOCAL_LAMBDAS_HOME");
    if (home != null && Files.isExecutable(Path.of(home, "local-lambdas"))) {
      return List.of(Path.of(home, "local-lambdas").toString());
    }
    String path = System.getenv("PATH");
    for (String dir :
        java.io.File.pathSeparator.equals(":") && path != null
            ? Pattern.compile(":").split(path)
            : new String[0]) {
      if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, "local-lambdas"))) {
        return List.of(Path.of(dir, "local-lambdas").toString());
      }
    }
    throw new IllegalStateException(
        "local-lambdas not found: set the system property locallambdas.command or"
            + " LOCAL_LAMBDAS_COMMAND (e.g. /path/to/local-lambdas), or LOCAL_LAMBDAS_HOME, or put"
            + " local-lambdas on PATH");
  }

  boolean alive() {
    return process.isAlive();
  }

  @Override
  public void close() {
    if (!process.isAlive()) {
      return;
    }
    process.destroy();
    try {
      if (!process.waitFor(30, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor();
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }
}
