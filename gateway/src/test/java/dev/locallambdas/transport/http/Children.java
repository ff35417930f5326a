package dev.locallambdas.transport.http;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Starts python3 children for transport tests and makes sure none outlives the test. */
final class Children {
  private final Path logDirectory;
  private final List<Process> processes = new ArrayList<>();

  Children(Path logDirectory) {
    this.logDirectory = logDirectory;
  }

  /** A test child script from src/test/resources/children. */
  static Path script(String name) {
    try {
      return Path.of(Children.class.getResource("/children/" + name).toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  Process start(Map<String, String> env, String... command) throws IOException {
    ProcessBuilder pb = new ProcessBuilder(command);
    pb.environment().putAll(env);
    Path log = logDirectory.resolve("child-" + processes.size() + ".log");
    pb.redirectErrorStream(true).redirectOutput(log.toFile());
    Process p = pb.start();
    processes.add(p);
    return p;
  }

  /** Kills every child started and its descendants, and waits for them to go. */
  void stopAll() throws InterruptedException {
    for (Process p : processes) {
      p.descendants().forEach(ProcessHandle::destroyForcibly);
      p.destroyForcibly();
    }
    for (Process p : processes) {
      p.waitFor(10, TimeUnit.SECONDS);
    }
  }
}
