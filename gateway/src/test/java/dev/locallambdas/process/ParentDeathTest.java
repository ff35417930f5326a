package dev.locallambdas.process;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A stand-in gateway (a JVM running {@link OrphanedChildMain}) is killed with SIGKILL: no shutdown
 * hook runs, and nothing it or its child started may live on.
 */
class ParentDeathTest {
  @TempDir Path dir;

  private Process gateway;

  /** Every process the test saw, killed at the end whatever happened (orphans are not ours). */
  private final List<ProcessHandle> seen = new ArrayList<>();

  @AfterEach
  void killEverything() throws InterruptedException {
    if (gateway != null) {
      gateway.destroyForcibly();
      gateway.waitFor();
    }
    seen.forEach(ProcessHandle::destroyForcibly);
  }

  /** Starts the stand-in gateway with {@code command} and returns its child. */
  private ProcessHandle startGateway(String... command) throws IOException {
    return startGatewaySpawning("posix", command);
  }

  /**
   * The same, spawning its children with posix_spawn where it can ({@code spawn} "posix") or the
   * JDK's way ("jdk").
   */
  private ProcessHandle startGatewaySpawning(String spawn, String... command) throws IOException {
    String java = ProcessHandle.current().info().command().orElseThrow();
    Path stderr = dir.resolve("gateway-stderr.txt");
    List<String> line =
        new ArrayList<>(
            List.of(
                java,
                "--enable-native-access=ALL-UNNAMED",
                "-Dlocallambdas.spawn=" + spawn,
                "-cp",
                System.getProperty("java.class.path"),
                OrphanedChildMain.class.getName()));
    line.addAll(List.of(command));
    gateway =
        new ProcessBuilder(line)
            .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
            .redirectError(stderr.toFile())
            .start();
    String pidLine;
    try (BufferedReader out =
        new BufferedReader(
            new InputStreamReader(gateway.getInputStream(), StandardCharsets.UTF_8))) {
      pidLine = out.readLine();
    }
    assertThat(pidLine).as("child pid; gateway stderr: %s", Files.readString(stderr)).isNotNull();
    ProcessHandle child = ProcessHandle.of(Long.parseLong(pidLine.strip())).orElseThrow();
    seen.add(child);
    return child;
  }

  /** The pid the child's script wrote to {@code name}, once it is there. */
  private ProcessHandle pidFrom(String name) {
    Path file = dir.resolve(name);
    await("pid file " + name)
        .atMost(Duration.ofSeconds(10))
        .until(() -> Files.exists(file) && Files.readString(file).endsWith("\n"));
    try {
      ProcessHandle p =
          ProcessHandle.of(Long.parseLong(Files.readString(file).strip())).orElseThrow();
      seen.add(p);
      return p;
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private void killGatewayAndAwaitAllGone(List<ProcessHandle> processes)
      throws InterruptedException {
    gateway.destroyForcibly(); // SIGKILL: no shutdown hook, no clean-up of its own
    gateway.waitFor();
    for (ProcessHandle p : processes) {
      await("process " + p.pid() + " to be gone")
          .atMost(Duration.ofSeconds(10))
          .until(() -> !ProcessTree.isRunning(p));
    }
  }

  @Test
  void childDiesWhenGatewayIsKilledWithSigkill() throws Exception {
    Assumptions.assumeTrue(
        Wrappers.installed().setpriv().isPresent(),
        "util-linux setpriv with --pdeathsig is absent");
    ProcessHandle sleep = startGateway();
    assertThat(sleep.info().command()).hasValueSatisfying(c -> assertThat(c).endsWith("sleep"));
    assertThat(sleep.parent().map(ProcessHandle::pid)).hasValue(gateway.pid());

    killGatewayAndAwaitAllGone(List.of(sleep));
  }

  /**
   * The grandchildren the parent-death signal cannot reach (it is not inherited across fork): one
   * orphaned inside the child's process group, one that made itself a daemon in a session of its
   * own (it keeps the marker in its environment), one that replaced its environment (it stays in
   * the group).
   */
  @ParameterizedTest
  @ValueSource(strings = {"posix", "jdk"})
  void everythingTheChildStartedDiesWhenGatewayIsKilledWithSigkill(String spawn) throws Exception {
    Assumptions.assumeTrue(
        Wrappers.installed().setsid().isPresent(), "util-linux setsid is absent");
    ProcessHandle child =
        startGatewaySpawning(
            spawn,
            "sh",
            "-c",
            "cd \"$1\";"
                + " (sleep 1001 & echo $! > orphan.pid);"
                + " (setsid sleep 1002 & echo $! > daemon.pid);"
                + " (env -i /bin/sleep 1003 & echo $! > scrubbed.pid);"
                + " exec sleep 1000",
            "child",
            dir.toString());
    ProcessHandle orphan = pidFrom("orphan.pid");
    ProcessHandle daemon = pidFrom("daemon.pid");
    ProcessHandle scrubbed = pidFrom("scrubbed.pid");
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> child.info().command().orElse("").endsWith("sleep"));
    assertThat(orphan.parent().map(ProcessHandle::pid)).isNotEqualTo(Optional.of(child.pid()));

    killGatewayAndAwaitAllGone(List.of(child, orphan, daemon, scrubbed));
  }

  /** A keeper that is killed is replaced, and the new one is told the groups already started. */
  @Test
  void aReplacedKeeperStillKillsTheChildsGroupWhenGatewayIsKilled() throws Exception {
    Assumptions.assumeTrue(
        Wrappers.installed().setsid().isPresent(), "util-linux setsid is absent");
    ProcessHandle child =
        startGateway(
            "sh",
            "-c",
            "cd \"$1\"; (env -i /bin/sleep 1003 & echo $! > scrubbed.pid); exec sleep 1000",
            "child",
            dir.toString());
    ProcessHandle scrubbed = pidFrom("scrubbed.pid");
    ProcessHandle first = keeperOf(gateway.toHandle(), -1);
    seen.add(first);
    first.destroyForcibly();
    ProcessHandle second = keeperOf(gateway.toHandle(), first.pid());
    seen.add(second);

    killGatewayAndAwaitAllGone(List.of(child, scrubbed));
    await().atMost(Duration.ofSeconds(10)).until(() -> !ProcessTree.isRunning(second));
  }

  /** Waits for the gateway's keeper process (other than pid {@code not}) and returns it. */
  private static ProcessHandle keeperOf(ProcessHandle gateway, long not) {
    return await("the keeper process")
        .atMost(Duration.ofSeconds(10))
        .until(
            () -> {
              try (Stream<ProcessHandle> children = gateway.children()) {
                return children
                    .filter(p -> p.pid() != not && ProcessTree.isRunning(p))
                    .filter(
                        p ->
                            p.info()
                                .arguments()
                                .map(a -> List.of(a).contains(Keeper.NAME))
                                .orElse(false))
                    .findFirst();
              }
            },
            Optional::isPresent)
        .orElseThrow();
  }
}
