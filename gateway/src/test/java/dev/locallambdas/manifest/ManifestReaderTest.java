package dev.locallambdas.manifest;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ManifestReaderTest {
  @TempDir Path dir;

  @Test
  void readsTheOriginalExampleUnchanged() throws Exception {
    Path file = ManifestFiles.resource("valid/original-example.xml");
    Path cwd = Path.of("/home/user/project");

    Manifest m = ManifestReader.read(file, cwd);

    assertThat(m.originalFormat()).isTrue();
    assertThat(m.source()).isEqualTo(file.toAbsolutePath().normalize());
    assertThat(m.functions()).hasSize(1);
    FunctionSpec f = m.function("perf-test-pipe");
    assertThat(f.executable()).isEqualTo("python3");
    assertThat(f.args()).containsExactly("examples/pipe_only_service.py");
    assertThat(f.routes()).containsExactly("/pipe/*");
    assertThat(f.pipeName()).isEqualTo("perf_test_pipe");
    // The original resolved working_dir against its own working directory.
    assertThat(f.workingDir()).isEqualTo(Path.of("/home/user/project/services/api"));
    assertThat(f.protocol()).isEqualTo(Protocol.LEGACY_PIPE);
    assertThat(f.maxInstances()).isEqualTo(1);
    assertThat(f.concurrency()).isEqualTo(1);
  }

  @Test
  void originalFormatMapsCommunicationModesToLegacyProtocols() throws Exception {
    Manifest m = ManifestReader.read(ManifestFiles.resource("valid/original-two-modes.xml"));

    assertThat(m.function("perf-test-http").protocol()).isEqualTo(Protocol.LEGACY_HTTP);
    assertThat(m.function("perf-test-http").concurrency()).isEqualTo(64);
    assertThat(m.function("perf-test-pipe").protocol()).isEqualTo(Protocol.LEGACY_PIPE);
    assertThat(m.function("perf-test-pipe").routes()).containsExactly("/pipe/");
  }

  @Test
  void originalFormatWithoutWorkingDirRunsInTheGatewaysDirectory() throws Exception {
    Manifest m = ManifestReader.read(ManifestFiles.resource("valid/original-two-modes.xml"));

    assertThat(m.function("perf-test-http").workingDir())
        .isEqualTo(Path.of("").toAbsolutePath())
        .isAbsolute();
  }

  @Test
  void originalFormatAcceptsExtensionElements() throws Exception {
    Manifest m = ManifestReader.read(ManifestFiles.resource("valid/original-with-extensions.xml"));

    assertThat(m.originalFormat()).isTrue();
    FunctionSpec api = m.function("api");
    assertThat(api.protocol()).isEqualTo(Protocol.LEGACY_HTTP);
    assertThat(api.routes()).containsExactly("/api/*", "/api-docs");
    assertThat(api.env()).containsExactly(Map.entry("NODE_ENV", "production"));
    assertThat(api.maxInstances()).isEqualTo(2);
    assertThat(api.requestTimeout()).isEqualTo(Duration.ofSeconds(10));
    assertThat(api.readyPath()).isEqualTo("/ready");
    // An explicit <protocol>pipe</protocol> is the new protocol even in the original format.
    assertThat(m.function("fast").protocol()).isEqualTo(Protocol.PIPE);
    assertThat(m.function("fast").concurrency()).isEqualTo(8);
  }

  @Test
  void readsVersionOneWithEveryElement() throws Exception {
    Path file = ManifestFiles.resource("valid/v1-every-element.xml");
    Path manifestDir = file.toAbsolutePath().normalize().getParent();

    Manifest m = ManifestReader.read(file);

    assertThat(m.originalFormat()).isFalse();
    assertThat(m.functions())
        .extracting(FunctionSpec::id)
        .containsExactly("hello", "echo", "old-json");
    FunctionSpec f = m.function("hello");
    assertThat(f.executable()).isEqualTo("./bin/hello");
    assertThat(f.args()).containsExactly("--greeting", "spaced", "");
    assertThat(f.routes()).containsExactly("/hello/*", "/hi");
    assertThat(f.pipeName()).isEqualTo("hello_pipe");
    assertThat(f.workingDir()).isEqualTo(manifestDir.resolve("services/hello"));
    assertThat(f.protocol()).isEqualTo(Protocol.HTTP);
    assertThat(f.env())
        .containsExactly(
            Map.entry("GREETING", "hello"),
            Map.entry("EMPTY", ""),
            Map.entry("FROM_FILE", "a file value"));
    assertThat(f.debugPort()).isEqualTo(5005);
    assertThat(f.startPolicy()).isEqualTo(StartPolicy.EAGER);
    assertThat(f.minInstances()).isEqualTo(1);
    assertThat(f.maxInstances()).isEqualTo(3);
    assertThat(f.spare()).isEqualTo(2);
    assertThat(f.concurrency()).isEqualTo(16);
    assertThat(f.idleTimeout()).isEqualTo(Duration.ZERO);
    assertThat(f.startupTimeout()).isEqualTo(Duration.ofMillis(250));
    assertThat(f.requestTimeout()).isEqualTo(Duration.ofSeconds(90));
    assertThat(f.queueTimeout()).isEqualTo(Duration.ofHours(2));
    assertThat(f.queueSize()).isZero();
    assertThat(f.maxBodyBytes()).isEqualTo(8L * 1024 * 1024);
    assertThat(f.maxRequestsPerInstance()).isEqualTo(1000);
    assertThat(f.stopGrace()).isEqualTo(Duration.ZERO);
    assertThat(f.httpListen()).isEqualTo(HttpListen.UNIX);
    assertThat(f.readyPath()).isEqualTo("/healthz");

    FunctionSpec echo = m.function("echo");
    assertThat(echo.protocol()).isEqualTo(Protocol.PIPE);
    assertThat(echo.maxBodyBytes()).isEqualTo(512L * 1024);
    assertThat(echo.idleTimeout()).isEqualTo(Duration.ofSeconds(30));
    assertThat(echo.workingDir()).isEqualTo(manifestDir);

    FunctionSpec old = m.function("old-json");
    assertThat(old.protocol()).isEqualTo(Protocol.LEGACY_PIPE);
    assertThat(old.workingDir()).isEqualTo(Path.of("/srv/old"));
  }

  @Test
  void versionOneAppliesFunctionSpecDefaults() throws Exception {
    Manifest m = ManifestReader.read(ManifestFiles.resource("valid/v1-minimal.xml"));

    FunctionSpec f = m.function("hello");
    assertThat(f.protocol()).isEqualTo(Protocol.PIPE);
    assertThat(f.maxInstances()).isEqualTo(4);
    assertThat(f.concurrency()).isEqualTo(1);
    assertThat(f.minInstances()).isZero();
    assertThat(f.startPolicy()).isEqualTo(StartPolicy.LAZY);
    assertThat(f.idleTimeout()).isEqualTo(Duration.ofMinutes(5));
    assertThat(f.startupTimeout()).isEqualTo(Duration.ofSeconds(10));
    assertThat(f.requestTimeout()).isEqualTo(Duration.ofSeconds(30));
    assertThat(f.queueTimeout()).isEqualTo(Duration.ofSeconds(30));
    assertThat(f.queueSize()).isEqualTo(256);
    assertThat(f.maxBodyBytes()).isEqualTo(64L * 1024 * 1024);
    assertThat(f.stopGrace()).isEqualTo(Duration.ofSeconds(3));
    assertThat(f.httpListen()).isEqualTo(HttpListen.TCP);
  }

  @Test
  void versionOneCommunicationModeNamesTheNewProtocols() throws Exception {
    Path file =
        ManifestFiles.write(
            dir,
            """
            <manifest version=" 1 ">
              <process>
                <id> web </id>
                <executable>  node  </executable>
                <route> /web/* </route>
                <communication_mode> HTTP </communication_mode>
              </process>
            </manifest>
            """);

    FunctionSpec f = ManifestReader.read(file).function("web");

    assertThat(f.protocol()).isEqualTo(Protocol.HTTP);
    assertThat(f.executable()).isEqualTo("node");
    assertThat(f.routes()).isEqualTo(List.of("/web/*"));
  }

  @Test
  void valuesMayUseCdataAndEntities() throws Exception {
    Path file =
        ManifestFiles.write(
            dir,
            """
            <manifest version="1">
              <function>
                <id>q</id>
                <executable>sh</executable>
                <arg><![CDATA[echo "<a&b>"]]></arg>
                <arg>x &amp;&amp; y</arg>
                <route>/q</route>
              </function>
            </manifest>
            """);

    assertThat(ManifestReader.read(file).function("q").args())
        .containsExactly("echo \"<a&b>\"", "x && y");
  }

  @Test
  void originalFormatKeepsTheOriginalLifecycle() throws Exception {
    Manifest m = ManifestReader.read(ManifestFiles.resource("valid/original-example.xml"));

    FunctionSpec f = m.function("perf-test-pipe");
    // The original started every process at launch and never stopped one for idleness; one
    // instance is kept, so a crashed one is started again without waiting for a request.
    assertThat(f.startPolicy()).isEqualTo(StartPolicy.EAGER);
    assertThat(f.idleTimeout()).isEqualTo(Duration.ZERO);
    assertThat(f.minInstances()).isEqualTo(1);
  }

  @Test
  void originalFormatLifecycleGivesWayToWhatTheManifestSays() throws Exception {
    Path file =
        ManifestFiles.write(
            dir,
            """
            <manifest>
              <process>
                <id>lazy</id><executable>cat</executable><route>/lazy</route>
                <start>lazy</start>
              </process>
              <process>
                <id>idle</id><executable>cat</executable><route>/idle</route>
                <idle_timeout>5m</idle_timeout>
              </process>
              <process>
                <id>zero</id><executable>cat</executable><route>/zero</route>
                <min_instances>0</min_instances>
              </process>
              <process>
                <id>two</id><executable>cat</executable><route>/two</route>
                <max_instances>3</max_instances><min_instances>2</min_instances>
              </process>
            </manifest>
            """);

    Manifest m = ManifestReader.read(file);

    FunctionSpec lazy = m.function("lazy");
    assertThat(lazy.startPolicy()).isEqualTo(StartPolicy.LAZY);
    assertThat(lazy.minInstances()).isZero();
    assertThat(lazy.idleTimeout()).isEqualTo(Duration.ZERO);
    FunctionSpec idle = m.function("idle");
    assertThat(idle.startPolicy()).isEqualTo(StartPolicy.EAGER);
    assertThat(idle.idleTimeout()).isEqualTo(Duration.ofMinutes(5));
    assertThat(idle.minInstances()).isZero();
    FunctionSpec zero = m.function("zero");
    assertThat(zero.startPolicy()).isEqualTo(StartPolicy.EAGER);
    assertThat(zero.minInstances()).isZero();
    assertThat(m.function("two").minInstances()).isEqualTo(2);
  }
}
