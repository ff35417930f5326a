package dev.locallambdas.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** The gateway as a real process, signalled the way users and init systems signal it. */
@ExtendWith(NoLeaks.class)
class GatewayProcessTest {
  @TempDir Path temp;
  private Process gateway;
  private HttpTestClient http;

  @AfterEach
  void killGateway() {
    if (gateway != null && gateway.isAlive()) {
      gateway.destroyForcibly();
    }
  }

  private void startGateway() throws Exception {
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
          </function>
          <function>
            <id>plain</id>
            <executable>sh</executable>
            <arg>-c</arg>
            <arg>exec python3 -m http.server --bind 127.0.0.1 "$PORT"</arg>
            <route>/plain/*</route>
            <protocol>http</protocol>
          </function>
        </manifest>
        """
            .formatted(repo, repo));
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    String java = ProcessHandle.current().info().command().orElseThrow();
    gateway =
        new ProcessBuilder(
                java,
                "--enable-native-access=ALL-UNNAMED",
                "-cp",
                System.getProperty("java.class.path"),
                "dev.locallambdas.cli.Main",
                "serve",
                manifest.toString(),
                "--bind",
                "127.0.0.1:" + port)
            .redirectErrorStream(true)
            .redirectOutput(temp.resolve("gateway.log").toFile())
            .start();
    http = new HttpTestClient(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
    await()
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(50))
        .ignoreExceptions()
        .until(() -> http.get("/cue/hello").statusCode() == 200);
    // python -m http.server answers 404 for a path it does not have: proof the child answered.
    HttpResponse<String> plain = http.get("/plain/");
    assertThat(plain.headers().firstValue("server").orElse("")).contains("SimpleHTTP");
  }

  private List<ProcessHandle> children() {
    return gateway.toHandle().descendants().filter(ProcessHandle::isAlive).toList();
  }

  private Path runDirectory() throws IOException, InterruptedException {
    String body = http.get("/cue/env?name=PIPE_ADDRESS").body();
    String path = body.substring(body.indexOf(": \"") + 3, body.lastIndexOf('"'));
    return Path.of(path).getParent();
  }

  @Test
  void sigtermStopsEveryChildAndRemovesTheSocketDirectory() throws Exception {
    startGateway();
    Path run = runDirectory();
    List<ProcessHandle> children = children();
    assertThat(children).hasSizeGreaterThanOrEqualTo(2);
    assertThat(run).isDirectory();
    gateway.toHandle().destroy(); // SIGTERM
    assertThat(gateway.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> children.stream().noneMatch(ProcessHandle::isAlive));
    assertThat(run).doesNotExist();
    assertThat(Files.readString(temp.resolve("gateway.log"))).contains("stopped");
  }

  @Test
  void sigkillOfTheGatewayLeavesNoChildBehind() throws Exception {
    startGateway();
    Path run = runDirectory();
    List<ProcessHandle> children = children();
    assertThat(children).hasSizeGreaterThanOrEqualTo(2);
    gateway.destroyForcibly(); // SIGKILL: no shutdown hook runs
    gateway.waitFor();
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> children.stream().noneMatch(ProcessHandle::isAlive));
    // Pipe sockets are unlinked as soon as the child connects, so nothing is left but the
    // directory and its lock file, which the next gateway removes (ProcessIsolationTest). Any
    // gateway starting meanwhile (another test) may already have removed it.
    try (var files = Files.list(run)) {
      assertThat(files.filter(p -> p.toString().endsWith(".sock")).toList()).isEmpty();
    } catch (java.nio.file.NoSuchFileException sweptByAnotherGateway) {
      return;
    }
    Files.deleteIfExists(run.resolve("lock"));
    Files.deleteIfExists(run);
  }

  @Test
  void sigtermLetsInFlightRequestsFinish() throws Exception {
    startGateway();
    try (ExecutorService ex = Executors.newVirtualThreadPerTaskExecutor()) {
      Future<HttpResponse<String>> slow = ex.submit(() -> http.get("/cue/sleep?ms=1500"));
      await()
          .atMost(Duration.ofSeconds(5))
          .until(() -> Files.readString(temp.resolve("gateway.log")).contains("cue#"));
      Thread.onSpinWait();
      // Give the request time to be in flight: wait until the child has it (it sleeps 1.5 s).
      await().pollDelay(Duration.ofMillis(300)).atMost(Duration.ofSeconds(2)).until(() -> true);
      gateway.toHandle().destroy();
      assertThat(slow.get().statusCode()).isEqualTo(200);
    }
    assertThat(gateway.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
  }
}
