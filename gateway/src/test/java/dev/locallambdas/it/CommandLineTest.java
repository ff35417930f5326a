package dev.locallambdas.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
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
}
