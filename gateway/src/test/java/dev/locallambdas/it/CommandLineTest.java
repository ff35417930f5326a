package dev.locallambdas.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The command line as a process: what {@code ./local-lambdas ARGS} runs after its build step
 * ({@code java -cp ... dev.locallambdas.cli.Main ARGS}). The launcher script itself is not run
 * here: when sources are newer than its last build it runs Maven, which would rebuild
 * gateway/target under the running test.
 */
@ExtendWith(NoLeaks.class)
class CommandLineTest {
  @TempDir Path temp;
  private MainProcess serving;

  @AfterEach
  void stop() throws InterruptedException {
    if (serving != null) {
      serving.stop();
    }
  }

  private MainProcess run(Path dir, String... args) throws Exception {
    return MainProcess.run(dir, temp.resolve("logs"), args);
  }

  @Test
  void helpListsTheCommands() throws Exception {
    MainProcess help = run(TestManifests.repo(), "--help");
    assertThat(help.exitCode()).as(help.stderr()).isZero();
    assertThat(help.stdout())
        .contains("Usage: local-lambdas")
        .contains("serve")
        .contains("validate")
        .contains("--version");
  }

  @Test
  void serveHelpDescribesItsOptions() throws Exception {
    MainProcess help = run(TestManifests.repo(), "serve", "--help");
    assertThat(help.exitCode()).as(help.stderr()).isZero();
    assertThat(help.stdout())
        .contains("Usage: local-lambdas serve")
        .contains("MANIFEST")
        .contains("--bind")
        .contains("--drain-grace")
        .contains("BIND_ADDRESS");
  }

  @Test
  void validateHelpSaysWhatItChecks() throws Exception {
    MainProcess help = run(TestManifests.repo(), "validate", "--help");
    assertThat(help.exitCode()).as(help.stderr()).isZero();
    assertThat(help.stdout())
        .contains("Usage: local-lambdas validate")
        .contains("MANIFEST")
        .contains("Exits 0 when valid");
  }

  @Test
  void validateAcceptsTheDemoManifest() throws Exception {
    MainProcess validate = run(TestManifests.repo(), "validate", "examples/manifest.xml");
    assertThat(validate.exitCode()).as(validate.stderr()).isZero();
    assertThat(validate.stdout())
        .contains("examples/manifest.xml: valid, 5 function(s)")
        .doesNotContain("original local_lambdas format")
        .contains("python-hello: /python/*")
        .contains("node-hello: /node/*")
        .contains("java-hello: /java/*")
        .contains("http-hello: /http/*")
        .contains("echo: /echo");
  }

  /**
   * A manifest whose first function starts with the gateway (eager) and leaves a marker file when
   * it runs; {@code brokenLine}, when not null, is inserted into the second function.
   */
  private Path markerManifest(Path marker, String brokenLine) throws Exception {
    Path file = temp.resolve(brokenLine == null ? "good.xml" : "bad.xml");
    Files.writeString(
        file,
        """
        <manifest version="1">
          <function>
            <id>marker</id>
            <executable>sh</executable>
            <arg>-c</arg>
            <arg>touch "$MARKER"; exec sleep 600</arg>
            <route>/marker/*</route>
            <env name="MARKER">%s</env>
            <start>eager</start>
            <min_instances>1</min_instances>
            <startup_timeout>1m</startup_timeout>
          </function>
          <function>
            <id>other</id>
            <executable>python3</executable>
            <route>/other/*</route>
            %s
          </function>
        </manifest>
        """
            .formatted(marker, brokenLine == null ? "" : brokenLine));
    return file;
  }

  @Test
  void serveRefusesABadManifestWithFileAndLineAndStartsNothing() throws Exception {
    Path marker = temp.resolve("started");
    Path bad = markerManifest(marker, "<max_instances>0</max_instances>");
    MainProcess serve = run(temp, "serve", bad.toString(), "--bind", "127.0.0.1:0");
    assertThat(serve.exitCode()).isNotZero();
    assertThat(serve.stderr())
        .contains(bad + ":17: <max_instances> of 'other': 0 is not allowed")
        .contains("nothing was started");
    assertThat(marker).as("the eager function of a bad manifest never ran").doesNotExist();

    MainProcess validate = run(temp, "validate", bad.toString());
    assertThat(validate.exitCode()).isEqualTo(1);
    assertThat(validate.stderr()).contains(bad + ":17: <max_instances> of 'other'");
    assertThat(marker).doesNotExist();
  }

  /**
   * The control for the test above: the same manifest without the error does start the marker
   * function.
   */
  @Test
  void serveStartsTheEagerFunctionOfAGoodManifest() throws Exception {
    Path marker = temp.resolve("started");
    Path good = markerManifest(marker, null);
    serving =
        MainProcess.start(
            temp, temp.resolve("logs"), "serve", good.toString(), "--bind", "127.0.0.1:0");
    serving.awaitServing();
    await().atMost(Duration.ofSeconds(30)).until(() -> Files.exists(marker));
  }

  /**
   * With TLS the address a harness reads (the stdout line, the ready file) says https: a client
   * that took it as http would talk cleartext to a TLS port.
   */
  @Test
  void serveWithTlsAnnouncesAnHttpsAddress() throws Exception {
    Path ready = temp.resolve("ready");
    serving =
        MainProcess.start(
            Map.of("XDG_DATA_HOME", temp.resolve("data").toString()),
            temp,
            temp.resolve("logs"),
            "serve",
            markerManifest(temp.resolve("started"), null).toString(),
            "--bind",
            "127.0.0.1:0",
            "--tls-self-signed",
            "--ready-file",
            ready.toString());
    await()
        .atMost(Duration.ofSeconds(60))
        .failFast("the gateway exited: " + serving.stderr(), () -> !serving.isAlive())
        .until(() -> Files.exists(ready));
    assertThat(Files.readString(ready)).startsWith("https://127.0.0.1:");
    assertThat(serving.stdout()).contains("local-lambdas: listening on https://127.0.0.1:");
  }

  /** 'serve' is the default command, so its options belong in the first help a user sees. */
  @Test
  void topLevelHelpListsTheOptionsOfServe() throws Exception {
    MainProcess help = run(TestManifests.repo(), "--help");
    assertThat(help.exitCode()).as(help.stderr()).isZero();
    assertThat(help.stdout())
        .contains("Options of serve (the default command")
        .contains("--bind=HOST:PORT")
        .contains("--drain-grace")
        .contains("-q, --quiet")
        .contains("-v, --verbose");
  }

  @Test
  void accessLogWritesOneLinePerRequestEvenWhenQuiet() throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort();
    }
    Path marker = temp.resolve("started");
    Path good = markerManifest(marker, null);
    serving =
        MainProcess.start(
            temp,
            temp.resolve("logs"),
            "serve",
            good.toString(),
            "--bind",
            "127.0.0.1:" + port,
            "--access-log",
            "--loops",
            "1",
            "-q");
    await()
        .atMost(Duration.ofSeconds(30))
        .failFast("the gateway exited: " + serving.stderr(), () -> !serving.process().isAlive())
        .ignoreExceptions()
        .until(() -> get("http://127.0.0.1:" + port + "/nowhere?x=1") == 404);
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () ->
                assertThat(serving.stderr())
                    .containsPattern("method=GET path=\\S*/nowhere\\S* status=404"));
  }

  private static int get(String url) throws Exception {
    return java.net.http.HttpClient.newHttpClient()
        .send(
            java.net.http.HttpRequest.newBuilder(java.net.URI.create(url)).build(),
            java.net.http.HttpResponse.BodyHandlers.discarding())
        .statusCode();
  }

  @Test
  void loopsOutOfRangeIsRefused() throws Exception {
    MainProcess serve = run(TestManifests.repo(), "serve", "examples/manifest.xml", "--loops", "0");
    assertThat(serve.exitCode()).isNotZero();
    assertThat(serve.stderr()).contains("--loops 0 is not allowed: use 1 to 1024");
  }

  @Test
  void unknownLogLevelInTheEnvironmentIsRefusedWithTheValidOnes() throws Exception {
    MainProcess serve =
        MainProcess.run(
            Map.of("LOCAL_LAMBDAS_LOG", "verbose"),
            TestManifests.repo(),
            temp.resolve("logs"),
            "serve",
            "examples/manifest.xml",
            "--bind",
            "127.0.0.1:0");
    assertThat(serve.exitCode()).isNotZero();
    assertThat(serve.stderr())
        .contains("LOCAL_LAMBDAS_LOG 'verbose' is not a log level")
        .contains("debug")
        .contains("info")
        .contains("warn")
        .doesNotContain("serving");
  }

  @Test
  void bindToAnAddressOfAnotherMachineSaysSoInWords() throws Exception {
    InetAddress elsewhere = InetAddress.getByName("203.0.113.7"); // TEST-NET-3, documentation only
    assumeTrue(NetworkInterface.getByInetAddress(elsewhere) == null, "203.0.113.7 is local here");
    MainProcess serve =
        run(TestManifests.repo(), "serve", "examples/manifest.xml", "--bind", "203.0.113.7:3999");
    assertThat(serve.exitCode()).isNotZero();
    assertThat(serve.stderr())
        .contains(
            "cannot listen on 203.0.113.7:3999: 203.0.113.7 is not an address of this machine")
        .contains("127.0.0.1")
        .doesNotContain("error(-99)")
        .doesNotContain("bind(..)");
  }

  @Test
  void bindToAPortInUseSaysSoInWords() throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      String address = "127.0.0.1:" + taken.getLocalPort();
      MainProcess serve =
          run(TestManifests.repo(), "serve", "examples/manifest.xml", "--bind", address);
      assertThat(serve.exitCode()).isNotZero();
      assertThat(serve.stderr())
          .contains("cannot listen on " + address + ": another process is already listening")
          .doesNotContain("bind(..)");
    }
  }

  /**
   * With -q the child's own output is not logged, so its last stderr lines come with the warning.
   */
  @Test
  void quietStartFailureStillShowsTheChildsStderrAsWarning() throws Exception {
    Path manifest = temp.resolve("broken.xml");
    Files.writeString(
        manifest,
        """
        <manifest version="1">
          <function>
            <id>broken</id>
            <executable>sh</executable>
            <arg>-c</arg>
            <arg>echo "broken: cannot open settings.yaml" >&amp;2; exit 1</arg>
            <route>/broken/*</route>
          </function>
        </manifest>
        """);
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort(); // -q hides the line that says the address: choose it here
    }
    serving =
        MainProcess.start(
            temp,
            temp.resolve("logs"),
            "serve",
            manifest.toString(),
            "--bind",
            "127.0.0.1:" + port,
            "-q");
    HttpTestClient http =
        new HttpTestClient(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
    int status =
        await("the gateway to answer")
            .atMost(Duration.ofSeconds(30))
            .ignoreExceptions()
            .until(() -> http.get("/broken/x").statusCode(), s -> s > 0);

    assertThat(status).isEqualTo(503);

    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> serving.stderr().contains("broken: cannot open settings.yaml"));
    assertThat(serving.stderr().lines())
        .anySatisfy(l -> assertThat(l).contains("WARN").contains("exited with status 1"))
        .noneSatisfy(l -> assertThat(l).contains("INFO"));
  }
}
