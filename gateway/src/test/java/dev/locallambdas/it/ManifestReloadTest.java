package dev.locallambdas.it;

import static dev.locallambdas.it.ReloadFixture.awaitVersion;
import static dev.locallambdas.it.ReloadFixture.function;
import static dev.locallambdas.it.ReloadFixture.pid;
import static dev.locallambdas.it.ReloadFixture.post;
import static dev.locallambdas.it.ReloadFixture.writeApp;
import static dev.locallambdas.it.ReloadFixture.writeManifest;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.InetSocketAddress;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Manifest reload on a real gateway process (docs/reload.md): a change of the file, SIGHUP and the
 * admin API; unchanged functions keep their process, changed ones are swapped under load without a
 * failed request, removed ones finish what they serve, an invalid manifest changes nothing.
 */
@ExtendWith(NoLeaks.class)
class ManifestReloadTest {
  @TempDir Path temp;
  private MainProcess gateway;

  @AfterEach
  void stopGateway() throws InterruptedException {
    if (gateway != null) {
      gateway.stop();
    }
  }

  private InetSocketAddress serve(Path manifest, String... extra) throws Exception {
    String[] args = new String[3 + extra.length];
    args[0] = "serve";
    args[1] = manifest.toString();
    args[2] = "--bind=127.0.0.1:0";
    System.arraycopy(extra, 0, args, 3, extra.length);
    gateway = MainProcess.start(temp, temp.resolve("logs"), args);
    return gateway.awaitServing();
  }

  @Test
  void aChangedFileIsAppliedWithoutAFailedRequest() throws Exception {
    Path keep = temp.resolve("keep");
    Path edit = temp.resolve("edit");
    Path gone = temp.resolve("gone");
    Path fresh = temp.resolve("fresh");
    for (Path d : new Path[] {keep, edit, gone, fresh}) {
      writeApp(d, "1");
    }
    String eager = "<start>eager</start>";
    Path manifest = temp.resolve("manifest.xml");
    writeManifest(
        manifest,
        function("keep", keep, eager + "<max_instances>1</max_instances>"),
        function("edit", edit, eager + "<env name=\"VERSION\">a</env>"),
        function("gone", gone, eager));
    InetSocketAddress address = serve(manifest);
    HttpTestClient http = new HttpTestClient(address);
    long keepPid = pid(awaitVersion(http, "/keep/", "1"));
    long editPid = pid(awaitVersion(http, "/edit/", "1"));
    awaitVersion(http, "/gone/", "1");

    CompletableFuture<HttpResponse<String>> inFlight =
        CompletableFuture.supplyAsync(
            () -> {
              try {
                return http.get("/gone/?sleep=1500");
              } catch (Exception e) {
                throw new IllegalStateException(e);
              }
            });
    try (ReloadFixture.Load load = new ReloadFixture.Load(http, 4, "/keep/", "/edit/")) {
      await().atMost(Duration.ofSeconds(10)).until(() -> load.answered() > 20);
      writeManifest(
          manifest,
          function("keep", keep, eager + "<max_instances>1</max_instances>"),
          function("edit", edit, eager + "<env name=\"VERSION\">b</env>"),
          function("fresh", fresh, ""));
      await("the changed function to answer from its new definition")
          .atMost(Duration.ofSeconds(30))
          .until(() -> http.get("/edit/").body().contains("\"env\": \"b\""));
      int before = load.answered();
      await().atMost(Duration.ofSeconds(10)).until(() -> load.answered() > before + 20);
      assertThat(load.failures()).as("requests that failed during the reload").isEmpty();
    }
    HttpResponse<String> edited = http.get("/edit/");
    assertThat(pid(edited)).as("a changed function gets new instances").isNotEqualTo(editPid);
    assertThat(pid(http.get("/keep/"))).as("an unchanged function keeps its").isEqualTo(keepPid);
    assertThat(http.get("/fresh/").statusCode()).isEqualTo(200);
    assertThat(http.get("/gone/").statusCode()).as("a removed route").isEqualTo(404);
    assertThat(inFlight.get(30, TimeUnit.SECONDS).statusCode())
        .as("a request in flight in a removed function finishes")
        .isEqualTo(200);
    assertThat(gateway.stderr())
        .contains("reloaded: added [fresh], changed [edit], removed [gone]");
    await("the old instances to be stopped")
        .atMost(Duration.ofSeconds(20))
        .until(() -> ProcessHandle.of(editPid).isEmpty());
  }

  @Test
  void anInvalidManifestKeepsTheLastGoodOneAndTheAdminApiNamesFileAndLine() throws Exception {
    Path a = temp.resolve("a");
    writeApp(a, "1");
    Path manifest = temp.resolve("manifest.xml");
    writeManifest(manifest, function("a", a, ""));
    InetSocketAddress address = serve(manifest, "--no-reload");
    HttpTestClient http = new HttpTestClient(address);
    awaitVersion(http, "/a/", "1");

    writeManifest(manifest, function("a", a, "<max_instances>0</max_instances>"));
    HttpResponse<String> refused = post(address, "/.local-lambdas/reload");

    assertThat(refused.statusCode()).isEqualTo(422);
    assertThat(refused.headers().firstValue("content-type")).hasValue("application/problem+json");
    assertThat(refused.body()).contains(manifest + ":9:").contains("max_instances");
    assertThat(gateway.stderr()).contains(manifest + ":9:");
    assertThat(http.get("/a/").statusCode()).as("the last good manifest serves").isEqualTo(200);

    Path b = temp.resolve("b");
    writeApp(b, "2");
    writeManifest(manifest, function("a", a, ""), function("b", b, ""));
    HttpResponse<String> applied = post(address, "/.local-lambdas/reload");

    assertThat(applied.statusCode()).isEqualTo(200);
    assertThat(applied.body())
        .contains("\"added\":[\"b\"]")
        .contains("\"unchanged\":[\"a\"]")
        .contains("\"changed\":[]");
    awaitVersion(http, "/b/", "2");
    assertThat(http.get("/.local-lambdas/manifest").body()).contains("<id>b</id>");
    assertThat(http.get("/.local-lambdas/reload").statusCode()).isEqualTo(405);
  }

  @Test
  void sighupReloadsAndSigtermStillDrainsAndStops() throws Exception {
    Path a = temp.resolve("a");
    writeApp(a, "1");
    Path manifest = temp.resolve("manifest.xml");
    writeManifest(manifest, function("a", a, ""));
    InetSocketAddress address = serve(manifest, "--no-reload");
    HttpTestClient http = new HttpTestClient(address);
    awaitVersion(http, "/a/", "1");

    Path b = temp.resolve("b");
    writeApp(b, "2");
    writeManifest(manifest, function("a", a, ""), function("b", b, ""));
    Thread.sleep(300); // --no-reload: give a (wrong) file-change reload the time to show up
    assertThat(http.get("/b/").statusCode()).as("no reload without a trigger").isEqualTo(404);
    Process kill =
        new ProcessBuilder("kill", "-HUP", Long.toString(gateway.process().pid())).start();
    assertThat(kill.waitFor()).isZero();

    awaitVersion(http, "/b/", "2");
    assertThat(gateway.process().isAlive()).as("SIGHUP does not stop the gateway").isTrue();
    gateway.process().toHandle().destroy(); // SIGTERM
    assertThat(gateway.process().waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(gateway.exitCode()).isIn(0, 143);
    assertThat(gateway.stderr()).contains("stopped");
  }
}
