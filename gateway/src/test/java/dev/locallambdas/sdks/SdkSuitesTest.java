package dev.locallambdas.sdks;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Runs the Python and Node SDKs' own test suites (they have no build tool of their own), so that
 * the README's single test command covers them.
 */
class SdkSuitesTest {
  private static Path repo() {
    String p = System.getProperty("locallambdas.repo");
    return p != null ? Path.of(p) : Path.of("..").toAbsolutePath().normalize();
  }

  private static String run(List<String> command) throws IOException, InterruptedException {
    Process p =
        new ProcessBuilder(command).directory(repo().toFile()).redirectErrorStream(true).start();
    byte[] out = p.getInputStream().readAllBytes();
    boolean done = p.waitFor(5, TimeUnit.MINUTES);
    String text = new String(out, StandardCharsets.UTF_8);
    assertThat(done).as("suite finished").isTrue();
    assertThat(p.exitValue()).as(String.join(" ", command) + " output:\n" + text).isZero();
    return text;
  }

  @Test
  void pythonSdkSuitePasses() throws Exception {
    String out = run(List.of("python3", "-m", "unittest", "discover", "-s", "sdk/python", "-v"));
    assertThat(out).contains("OK");
  }

  @Test
  void nodeSdkSuitePasses() throws Exception {
    String out = run(List.of("node", "--test", "sdk/node/test/"));
    assertThat(out).contains("# fail 0");
  }
}
