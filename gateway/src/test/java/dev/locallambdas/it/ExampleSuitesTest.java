package dev.locallambdas.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Runs the example test suites of examples/testing (docs/testing.md) against the real gateway, each
 * through its own harness, so that they cannot rot. The harnesses run the gateway from this JVM's
 * class path (LOCAL_LAMBDAS_COMMAND), not through the launcher, which could start a build.
 */
@ExtendWith(NoLeaks.class)
class ExampleSuitesTest {
  private static String gatewayCommand() {
    return TestManifests.java()
        + " --enable-native-access=ALL-UNNAMED -cp "
        + System.getProperty("java.class.path")
        + " dev.locallambdas.cli.Main";
  }

  private static String run(List<String> command) throws IOException, InterruptedException {
    ProcessBuilder pb =
        new ProcessBuilder(command)
            .directory(TestManifests.repo().toFile())
            .redirectErrorStream(true)
            .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
    pb.environment().put("LOCAL_LAMBDAS_COMMAND", gatewayCommand());
    pb.environment().put("PYTHONPATH", TestManifests.repo().resolve("sdk/python").toString());
    Process p = pb.start();
    byte[] out = p.getInputStream().readAllBytes();
    assertThat(p.waitFor(5, TimeUnit.MINUTES)).as("suite finished").isTrue();
    String text = new String(out, StandardCharsets.UTF_8);
    assertThat(p.exitValue()).as(String.join(" ", command) + " output:\n" + text).isZero();
    return text;
  }

  private static boolean pytestInstalled() throws InterruptedException {
    try {
      return new ProcessBuilder("python3", "-c", "import pytest").start().waitFor() == 0;
    } catch (IOException e) {
      return false;
    }
  }

  @Test
  void thePytestExampleSuitePasses() throws Exception {
    assumeTrue(
        pytestInstalled(),
        "pytest is not installed (apt-get install python3-pytest; .ci/run does)");
    String out =
        run(
            List.of(
                "python3",
                "-m",
                "pytest",
                "-p",
                "local_lambdas_testing",
                "--local-lambdas-manifest",
                "examples/testing/manifest.xml",
                "-p",
                "no:cacheprovider",
                "examples/testing/python"));
    assertThat(out).contains("2 passed");
  }

  @Test
  void theNodeTestExampleSuitePasses() throws Exception {
    String out = run(List.of("node", "--test", "examples/testing/node/"));
    assertThat(out).contains("# pass 2").contains("# fail 0");
  }

  @Test
  void theShellExampleSuitePassesUnderExec() throws Exception {
    List<String> command = new ArrayList<>(List.of(gatewayCommand().split(" ")));
    command.addAll(
        List.of(
            "exec", "examples/testing/manifest.xml", "--", "sh", "examples/testing/shell/test.sh"));
    String out = run(command);
    assertThat(out).contains("ok: python").contains("ok: 404");
  }
}
