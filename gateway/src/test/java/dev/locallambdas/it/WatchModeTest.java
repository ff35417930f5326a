package dev.locallambdas.it;

import static dev.locallambdas.it.ReloadFixture.awaitVersion;
import static dev.locallambdas.it.ReloadFixture.function;
import static dev.locallambdas.it.ReloadFixture.writeApp;
import static dev.locallambdas.it.ReloadFixture.writeBrokenApp;
import static dev.locallambdas.it.ReloadFixture.writeManifest;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Watch mode on a real gateway process and a real Python child (docs/reload.md): saving the
 * function's code replaces its instances while requests keep flowing, none fails, and the new code
 * answers; code that cannot start leaves the old instance serving and the failure shown.
 */
@ExtendWith(NoLeaks.class)
class WatchModeTest {
  @TempDir Path temp;
  private MainProcess gateway;

  @AfterEach
  void stopGateway() throws InterruptedException {
    if (gateway != null) {
      gateway.stop();
    }
  }

  @Test
  void savingTheCodeSwapsInstancesUnderLoadWithoutAFailedRequest() throws Exception {
    Path fn = temp.resolve("fn");
    writeApp(fn, "1");
    Path manifest = temp.resolve("manifest.xml");
    writeManifest(manifest, function("fn", fn, "<start>eager</start>"));
    gateway =
        MainProcess.start(
            temp,
            temp.resolve("logs"),
            "serve",
            manifest.toString(),
            "--bind=127.0.0.1:0",
            "--watch");
    InetSocketAddress address = gateway.awaitServing();
    HttpTestClient http = new HttpTestClient(address);
    awaitVersion(http, "/fn/", "1");

    try (ReloadFixture.Load load = new ReloadFixture.Load(http, 4, "/fn/")) {
      for (String version : new String[] {"2", "3", "4"}) {
        Files.writeString(fn.resolve("app.py.swp"), "editor noise"); // ignored
        writeApp(fn, version);
        awaitVersion(http, "/fn/", version);
        int before = load.answered();
        await().atMost(Duration.ofSeconds(10)).until(() -> load.answered() > before + 10);
      }
      assertThat(load.answered()).isGreaterThan(30);
      assertThat(load.failures()).as("requests that failed during the swaps").isEmpty();
    }
    assertThat(gateway.stderr()).contains("fn: its files changed; replacing");
  }

  @Test
  void codeThatCannotStartLeavesTheOldInstanceServingAndSaysWhy() throws Exception {
    Path fn = temp.resolve("fn");
    writeApp(fn, "1");
    Path manifest = temp.resolve("manifest.xml");
    writeManifest(manifest, function("fn", fn, "<start>eager</start><watch>*.py</watch>"));
    gateway =
        MainProcess.start(
            temp, temp.resolve("logs"), "serve", manifest.toString(), "--bind=127.0.0.1:0");
    InetSocketAddress address = gateway.awaitServing();
    HttpTestClient http = new HttpTestClient(address);
    awaitVersion(http, "/fn/", "1");

    writeBrokenApp(fn);
    await("the failed reload to show in the admin API")
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                http.get("/.local-lambdas/functions/fn")
                    .body()
                    .contains("\"reloadFailure\":\"the new instance failed to start"));
    assertThat(http.get("/fn/").statusCode()).isEqualTo(200);
    assertThat(ReloadFixture.version(http.get("/fn/"))).isEqualTo("1");
    assertThat(gateway.stderr()).contains("failed to start").contains("SyntaxError");

    writeApp(fn, "2");
    awaitVersion(http, "/fn/", "2");
    await("the failure to clear")
        .atMost(Duration.ofSeconds(10))
        .until(
            () ->
                http.get("/.local-lambdas/functions/fn").body().contains("\"reloadFailure\":null"));
  }
}
