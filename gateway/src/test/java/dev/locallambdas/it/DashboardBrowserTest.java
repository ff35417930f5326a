package dev.locallambdas.it;

import dev.locallambdas.server.Gateway;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
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
    Path chromium = BrowserScript.chromiumOrSkip();
    Assumptions.assumeTrue(onPath("curl"), "curl is not installed; the dashboard test is skipped");

    gateway =
        Gateway.start(
            TestManifests.manifest(TestManifests.cue("cue").minInstances(1).build()),
            new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    String base = "http://127.0.0.1:" + gateway.address().getPort();
    Path shots = Path.of("target/surefire-reports/dashboard").toAbsolutePath();
    BrowserScript.run(
        "the dashboard test (screenshots in " + shots + ")",
        "dashboard.mjs",
        base,
        shots.toString(),
        chromium.toString());
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
