package dev.locallambdas.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Checks after each test that no child process is left: every process the test JVM started must be
 * gone (the gateway reaps and kills its children at shutdown, and its keeper process exits with
 * it). Leftovers are killed so one failing test does not poison the next, and the test fails naming
 * them.
 */
public final class NoLeaks implements AfterEachCallback {
  @Override
  public void afterEach(ExtensionContext context) {
    try {
      Awaitility.await("child processes of the test JVM to be gone")
          .atMost(Duration.ofSeconds(10))
          .pollInterval(Duration.ofMillis(20))
          .until(() -> allLivingDescendants().isEmpty());
    } catch (org.awaitility.core.ConditionTimeoutException e) {
      List<ProcessHandle> left = allLivingDescendants();
      List<String> described =
          left.stream().map(p -> p.pid() + " " + p.info().commandLine().orElse("?")).toList();
      left.forEach(ProcessHandle::destroyForcibly);
      assertThat(described).as("child processes leaked by the test").isEmpty();
    }
  }

  /**
   * The living processes the test JVM started, directly or not, other than the keepers of running
   * gateways (one per gateway, which lives as long as it does).
   */
  static List<ProcessHandle> livingDescendants() {
    return allLivingDescendants().stream().filter(p -> !isKeeper(p)).toList();
  }

  private static List<ProcessHandle> allLivingDescendants() {
    return ProcessHandle.current().descendants().filter(ProcessHandle::isAlive).toList();
  }

  static boolean isKeeper(ProcessHandle p) {
    return p.info().arguments().map(a -> List.of(a).contains("local-lambdas-keeper")).orElse(false);
  }
}
