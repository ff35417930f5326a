package dev.locallambdas.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.locallambdas.server.Gateway;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The dashboard end to end, in a real headless Chromium driven by playwright-core
 * (gateway/src/test/browser/dashboard.mjs has the steps): a request made with curl shows up live, a
 * crashed instance shows as restarting, the restart button replaces the instance. Screenshots go to
 * target/surefire-reports/dashboard/. Skipped, saying what to install, where Chromium or
 * playwright-core is missing (.ci/run installs both).
 */
@ExtendWith(NoLeaks.class)
class DashboardBrowserTest {
  private Gateway gateway;

  @AfterEach
  void stop() {
    if (gateway != null) {
      gateway.close();
    }
  }

  @Test
  void showsRequestsCrashesAndRestartsLive() throws Exception {
    Path browserDir = TestManifests.repo().resolve("gateway/src/test/browser");
    Path chromium = Path.of(System.getenv().getOrDefault("CHROMIUM_PATH", "/usr/bin/chromium"));
    Assumptions.assumeTrue(
        Files.isExecutable(chromium),
        "no Chromium at "
            + chromium
            + " (apt-get install chromium, or set CHROMIUM_PATH); the dashboard test is skipped");
    Assumptions.assumeTrue(
        Files.isDirectory(browserDir.resolve("node_modules/playwright-core")),
        "playwright-core is not installed (cd gateway/src/test/browser && npm ci); the dashboard"
            + " test is skipped");
    Assumptions.assumeTrue(onPath("curl"), "curl is not installed; the dashboard test is skipped");

    gateway =
        Gateway.start(
            TestManifests.manifest(TestManifests.cue("cue").minInstances(1).build()),
            new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    String base = "http://127.0.0.1:" + gateway.address().getPort();
    Path shots = Path.of("target/surefire-reports/dashboard").toAbsolutePath();
    Path log = Files.createTempFile("dashboard-test", ".log");
    Process node =
        new ProcessBuilder("node", "dashboard.mjs", base, shots.toString(), chromium.toString())
            .directory(browserDir.toFile())
            .redirectErrorStream(true)
            .redirectOutput(log.toFile())
            .start();
    boolean ended = node.waitFor(3, TimeUnit.MINUTES);
    if (!ended) {
      node.descendants().forEach(ProcessHandle::destroyForcibly);
      node.destroyForcibly().waitFor();
    }
    String output = Files.readString(log, StandardCharsets.UTF_8);
    Files.deleteIfExists(log);
    assertThat(ended).as("the browser test ended within 3 minutes; output:\n" + output).isTrue();
    assertThat(node.exitValue())
        .as("the browser test passed (screenshots in " + shots + "); output:\n" + output)
        .isZero();
  }

  private static boolean onPath(String program) {
    for (String dir : Pattern.compile(":").split(System.getenv().getOrDefault("PATH", ""), -1)) {
      if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, program))) {
        return true;
      }
    }
    return false;
  }
}
