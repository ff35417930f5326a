package dev.locallambdas.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Graceful drain of the gateway as a real process: SIGTERM with 50 requests in flight (each inside
 * a child, sleeping 3 s) lets all 50 finish with 200, then the gateway exits and its children are
 * gone.
 */
@ExtendWith(NoLeaks.class)
class DrainTest {
  private static final int IN_FLIGHT = 50;

  @TempDir Path temp;
  private MainProcess gateway;

  @AfterEach
  void stopGateway() throws InterruptedException {
    if (gateway != null) {
      gateway.stop();
    }
  }

  @Test
  void sigtermWithFiftyRequestsInFlightLetsAllFiftyComplete() throws Exception {
    Path log = temp.resolve("requests.log");
    Path manifest = temp.resolve("manifest.xml");
    String repo = TestManifests.repo().toString();
    Files.writeString(
        manifest,
        """
        <manifest version="1">
          <function>
            <id>cue</id>
            <executable>python3</executable>
            <arg>%s/gateway/src/test/resources/children/cue.py</arg>
            <route>/cue/*</route>
            <env name="SDK_PYTHON">%s/sdk/python</env>
            <env name="CUE_LOG">%s</env>
            <concurrency>10</concurrency>
            <max_instances>5</max_instances>
          </function>
        </manifest>
        """
            .formatted(repo, repo, log));
    gateway =
        MainProcess.start(
            temp,
            temp.resolve("logs"),
            "serve",
            manifest.toString(),
            "--bind",
            "127.0.0.1:0",
            "--drain-grace",
            "30s");
    InetSocketAddress address = gateway.awaitServing();
    HttpTestClient http = new HttpTestClient(address);
    assertThat(http.get("/cue/hello").statusCode()).isEqualTo(200);

    try (ExecutorService clients = Executors.newVirtualThreadPerTaskExecutor()) {
      List<Future<Integer>> answers = new ArrayList<>();
      for (int i = 0; i < IN_FLIGHT; i++) {
        answers.add(clients.submit(() -> http.get("/cue/sleep?ms=3000").statusCode()));
      }
      await("all 50 requests to be inside a child")
          .atMost(Duration.ofSeconds(60))
          .until(
              () ->
                  Files.exists(log)
                      && Files.readAllLines(log).stream().filter(l -> l.endsWith(" sleep")).count()
                          == IN_FLIGHT);
      gateway.process().toHandle().destroy(); // SIGTERM
      List<Integer> statuses = new ArrayList<>();
      for (Future<Integer> f : answers) {
        statuses.add(f.get(60, TimeUnit.SECONDS));
      }
      assertThat(statuses).hasSize(IN_FLIGHT).containsOnly(200);
    }
    assertThat(gateway.process().waitFor(60, TimeUnit.SECONDS)).isTrue();
    // The JVM ends with 143 (128 + SIGTERM) after its shutdown hook has drained: the status of a
    // Java service stopped by SIGTERM (systemd units say SuccessExitStatus=143).
    assertThat(gateway.exitCode()).as(gateway.stderr()).isIn(0, 143);
    assertThat(gateway.stderr()).contains("stopped");
  }
}
