package dev.locallambdas.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The command line, {@code dev.locallambdas.cli.Main}, run as a real process with the test JVM's
 * java and class path (what the launcher script runs, minus its build step). Output goes to files
 * so that a chatty process never blocks on a full pipe.
 */
final class MainProcess {
  private static final Pattern SERVING = Pattern.compile("on http://([0-9.]+):(\\d+)");

  private final Process process;
  private final Path stdout;
  private final Path stderr;

  private MainProcess(Process process, Path stdout, Path stderr) {
    this.process = process;
    this.stdout = stdout;
    this.stderr = stderr;
  }

  /** Starts {@code Main ARGS} in {@code workingDir}; output is kept in {@code logs}. */
  static MainProcess start(Path workingDir, Path logs, String... args) throws IOException {
    return start(java.util.Map.of(), workingDir, logs, args);
  }

  /** The same with {@code environment} laid over the test JVM's. */
  static MainProcess start(
      java.util.Map<String, String> environment, Path workingDir, Path logs, String... args)
      throws IOException {
    List<String> command = new ArrayList<>();
    command.add(TestManifests.java());
    command.add("--enable-native-access=ALL-UNNAMED");
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add("dev.locallambdas.cli.Main");
    command.addAll(List.of(args));
    Files.createDirectories(logs);
    Path out = Files.createTempFile(logs, "stdout", ".txt");
    Path err = Files.createTempFile(logs, "stderr", ".txt");
    ProcessBuilder builder =
        new ProcessBuilder(command)
            .directory(workingDir.toFile())
            .redirectOutput(out.toFile())
            .redirectError(err.toFile())
            .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
    builder.environment().putAll(environment);
    Process p = builder.start();
    return new MainProcess(p, out, err);
  }

  /**
   * Runs {@code Main ARGS} in {@code workingDir} to its end (at most a minute) and returns its exit
   * status.
   */
  static MainProcess run(Path workingDir, Path logs, String... args)
      throws IOException, InterruptedException {
    return run(java.util.Map.of(), workingDir, logs, args);
  }

  /** The same with {@code environment} laid over the test JVM's. */
  static MainProcess run(
      java.util.Map<String, String> environment, Path workingDir, Path logs, String... args)
      throws IOException, InterruptedException {
    MainProcess m = start(environment, workingDir, logs, args);
    if (!m.process.waitFor(60, TimeUnit.SECONDS)) {
      m.process.destroyForcibly().waitFor();
      throw new AssertionError(
          "local-lambdas "
              + String.join(" ", args)
              + " did not end within a minute:\n"
              + m.stderr());
    }
    return m;
  }

  int exitCode() {
    return process.exitValue();
  }

  Process process() {
    return process;
  }

  boolean isAlive() {
    return process.isAlive();
  }

  String stdout() {
    return read(stdout);
  }

  String stderr() {
    return read(stderr);
  }

  /** For a running {@code serve}: waits for its "serving ... on http://HOST:PORT" line. */
  InetSocketAddress awaitServing() {
    await("the gateway to log its address")
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(20))
        .failFast("the gateway exited: " + stderr(), () -> !process.isAlive())
        .until(() -> SERVING.matcher(stderr()).find());
    Matcher m = SERVING.matcher(stderr());
    assertThat(m.find()).isTrue();
    return new InetSocketAddress(m.group(1), Integer.parseInt(m.group(2)));
  }

  /** SIGTERM, then waits for the exit; SIGKILL if it takes longer than 30 seconds. */
  void stop() throws InterruptedException {
    if (process.isAlive()) {
      process.destroy();
      if (!process.waitFor(30, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor();
      }
    }
  }

  private static String read(Path file) {
    try {
      return Files.readString(file);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
