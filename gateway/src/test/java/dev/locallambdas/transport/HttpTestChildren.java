package dev.locallambdas.transport;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Starts python3 children for transport tests and makes sure none outlives the test. */
public final class HttpTestChildren {
  private final Path logDirectory;
  private final List<Process> processes = new ArrayList<>();

  public HttpTestChildren(Path logDirectory) {
    this.logDirectory = logDirectory;
  }

  /** A test child script from src/test/resources/children. */
  public static Path testScript(String name) {
    try {
      return Path.of(HttpTestChildren.class.getResource("/children/" + name).toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * The repository root, for the examples (set by surefire; the module directory's parent
   * otherwise).
   */
  public static Path repository() {
    String repo = System.getProperty("locallambdas.repo");
    return repo != null ? Path.of(repo) : Path.of("..").toAbsolutePath().normalize();
  }

  public Process start(Map<String, String> env, Path workingDir, String... command)
      throws IOException {
    ProcessBuilder pb = new ProcessBuilder(command);
    pb.environment().putAll(env);
    if (workingDir != null) {
      pb.directory(workingDir.toFile());
    }
    Path log = logDirectory.resolve("child-" + processes.size() + ".log");
    pb.redirectErrorStream(true).redirectOutput(log.toFile());
    Process p = pb.start();
    processes.add(p);
    return p;
  }

  public String log(int index) throws IOException {
    return Files.readString(logDirectory.resolve("child-" + index + ".log"));
  }

  /** Kills every child started and its descendants, and waits for them to go. */
  public void stopAll() throws InterruptedException {
    for (Process p : processes) {
      p.descendants().forEach(ProcessHandle::destroyForcibly);
      p.destroyForcibly();
    }
    for (Process p : processes) {
      p.waitFor(10, TimeUnit.SECONDS);
    }
  }
}
