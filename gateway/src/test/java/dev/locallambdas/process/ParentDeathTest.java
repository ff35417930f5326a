package dev.locallambdas.process;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ParentDeathTest {
  @TempDir Path dir;

  @Test
  void childDiesWhenGatewayIsKilledWithSigkill() throws Exception {
    Assumptions.assumeTrue(
        ParentDeathSignal.setpriv().isPresent(), "util-linux setpriv with --pdeathsig is absent");
    String java = ProcessHandle.current().info().command().orElseThrow();
    Path stderr = dir.resolve("gateway-stderr.txt");
    Process gateway =
        new ProcessBuilder(
                List.of(
                    java,
                    "-cp",
                    System.getProperty("java.class.path"),
                    OrphanedChildMain.class.getName()))
            .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
            .redirectError(stderr.toFile())
            .start();
    ProcessHandle sleep = null;
    try {
      String pidLine;
      try (BufferedReader out =
          new BufferedReader(
              new InputStreamReader(gateway.getInputStream(), StandardCharsets.UTF_8))) {
        pidLine = out.readLine();
      }
      assertThat(pidLine).as("child pid; gateway stderr: %s", Files.readString(stderr)).isNotNull();
      sleep = ProcessHandle.of(Long.parseLong(pidLine.strip())).orElseThrow();
      assertThat(sleep.info().command()).hasValueSatisfying(c -> assertThat(c).endsWith("sleep"));
      assertThat(sleep.parent().map(ProcessHandle::pid)).hasValue(gateway.pid());

      gateway.destroyForcibly();
      gateway.waitFor();

      ProcessHandle orphan = sleep;
      await().atMost(Duration.ofSeconds(10)).until(() -> !ProcessTree.isRunning(orphan));
    } finally {
      gateway.destroyForcibly();
      gateway.waitFor();
      if (sleep != null) {
        sleep.destroyForcibly();
      }
    }
  }
}
