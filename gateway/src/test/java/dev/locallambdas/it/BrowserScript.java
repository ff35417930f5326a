package dev.locallambdas.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * A step script in gateway/src/test/browser run with node against Debian's headless Chromium
 * (driven by playwright-core, no browser download): the tests that need a real browser skip, saying
 * what to install, where either is missing (.ci/run installs both).
 */
final class BrowserScript {
  private static final Path DIR = TestManifests.repo().resolve("gateway/src/test/browser");

  private BrowserScript() {}

  /** The Chromium to drive; skips the calling test when it or playwright-core is missing. */
  static Path chromiumOrSkip() {
    Path chromium = Path.of(System.getenv().getOrDefault("CHROMIUM_PATH", "/usr/bin/chromium"));
    Assumptions.assumeTrue(
        Files.isExecutable(chromium),
        "no Chromium at " + chromium + " (apt-get install chromium, or set CHROMIUM_PATH)");
    Assumptions.assumeTrue(
        Files.isDirectory(DIR.resolve("node_modules/playwright-core")),
        "playwright-core is not installed (cd gateway/src/test/browser && npm ci)");
    return chromium;
  }

  /**
   * Runs {@code node SCRIPT ARGS} and asserts it ended within 3 minutes with status 0; returns its
   * output. {@code what} names the test in the failure message.
   */
  static String run(String what, String script, String... args)
      throws IOException, InterruptedException {
    List<String> command = new ArrayList<>(List.of("node", script));
    command.addAll(List.of(args));
    Path log = Files.createTempFile("browser-script", ".log");
    try {
      Process node =
          new ProcessBuilder(command)
              .directory(DIR.toFile())
              .redirectErrorStream(true)
              .redirectOutput(log.toFile())
              .start();
      boolean ended = node.waitFor(3, TimeUnit.MINUTES);
      if (!ended) {
        node.descendants().forEach(ProcessHandle::destroyForcibly);
        node.destroyForcibly().waitFor();
      }
      String output = Files.readString(log, StandardCharsets.UTF_8);
      assertThat(ended).as(what + " ended within 3 minutes; output:\n" + output).isTrue();
      assertThat(node.exitValue()).as(what + " passed; output:\n" + output).isZero();
      return output;
    } finally {
      Files.deleteIfExists(log);
    }
  }
}
