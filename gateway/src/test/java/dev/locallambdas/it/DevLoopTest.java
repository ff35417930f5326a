package dev.locallambdas.it;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The development loop's command line as real processes: a free port reported on stdout and in a
 * ready file, {@code exec}, and functions started under their debuggers (ADR 0016).
 */
@ExtendWith(NoLeaks.class)
class DevLoopTest {
  private static final Pattern ATTACH = Pattern.compile("attach to 127\\.0\\.0\\.1:(\\d+)");
  private static final Pattern LISTENING =
      Pattern.compile("local-lambdas: listening on (http://127\\.0\\.0\\.1:\\d+)\\n");

  @TempDir Path temp;
  private MainProcess serving;
  private final HttpClient http =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  @AfterEach
  void stop() throws InterruptedException {
    if (serving != null) {
      serving.stop();
    }
  }

  private Path manifest(String functions) throws Exception {
    return Files.writeString(
        temp.resolve("manifest.xml"), "<manifest version=\"1\">\n" + functions + "\n</manifest>\n");
  }

  private String get(String url) throws Exception {
    HttpResponse<String> r =
        http.send(
            HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(60)).build(),
            HttpResponse.BodyHandlers.ofString());
    return r.statusCode() + " " + r.body();
  }

  private String awaitStdout(Pattern p) {
    await()
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(20))
        .failFast("the gateway exited: " + serving.stderr(), () -> !serving.process().isAlive())
        .until(() -> p.matcher(serving.stdout()).find());
    Matcher m = p.matcher(serving.stdout());
    assertThat(m.find()).isTrue();
    return m.group(1);
  }

  private static String python(String id, String script) {
    return "<function><id>"
        + id
        + "</id><executable>python3</executable><arg>"
        + TestManifests.repo().resolve("examples/python").resolve(script)
        + "</arg><route>/"
        + id
        + "/*</route></function>";
  }

  @Test
  void aFreePortIsReportedOnStdoutAndInTheReadyFileOnceItAccepts() throws Exception {
    Path m = manifest(python("py", "hello.py"));
    Path ready = temp.resolve("run/ready");
    Files.createDirectories(ready.getParent());
    Files.writeString(ready, "stale from an earlier run\n");
    serving =
        MainProcess.start(
            temp,
            temp.resolve("logs"),
            "serve",
            m.toString(),
            "--bind",
            "127.0.0.1:0",
            "--ready-file",
            ready.toString());
    String url = awaitStdout(LISTENING);
    await()
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(20))
        .until(() -> Files.exists(ready) && Files.readString(ready).equals(url + "\n"));
    assertThat(url).doesNotEndWith(":0");
    assertThat(get(url + "/py/hi")).startsWith("200 ");
    serving.stop();
    assertThat(ready).doesNotExist();
    assertThat(serving.stdout()).containsOnlyOnce("listening on");
  }

  @Test
  void execRunsTheCommandAgainstAGatewayAndExitsWithItsStatus() throws Exception {
    Path m = manifest(python("py", "hello.py"));
    MainProcess exec =
        MainProcess.run(
            temp,
            temp.resolve("logs"),
            "exec",
            m.toString(),
            "--",
            "sh",
            "-c",
            "curl -s \"$LOCAL_LAMBDAS_URL/py/x\" > answer.json; exit 7");
    assertThat(exec.exitCode()).as(exec.stderr()).isEqualTo(7);
    assertThat(Files.readString(temp.resolve("answer.json"))).contains("\"path\": \"/py/x\"");
    assertThat(exec.stderr()).contains("stopped");
  }

  @Test
  void execExplainsACommandThatCannotRun() throws Exception {
    Path m = manifest(python("py", "hello.py"));
    MainProcess exec =
        MainProcess.run(temp, temp.resolve("logs"), "exec", m.toString(), "--", "no-such-cmd-x");
    assertThat(exec.exitCode()).isEqualTo(127);
    assertThat(exec.stderr()).contains("cannot run no-such-cmd-x");
  }

  @Test
  void execForwardsSigtermToTheCommandThenStops() throws Exception {
    Path m = manifest(python("py", "hello.py"));
    Path started = temp.resolve("started");
    MainProcess exec =
        MainProcess.start(
            temp,
            temp.resolve("logs"),
            "exec",
            m.toString(),
            "--",
            "sh",
            "-c",
            "trap 'echo got-term > term; exit 5' TERM; touch started; while :; do sleep 0.05; done");
    await().atMost(Duration.ofSeconds(60)).until(() -> Files.exists(started));
    exec.process().destroy();
    assertThat(exec.process().waitFor(30, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
    await().atMost(Duration.ofSeconds(5)).until(() -> Files.exists(temp.resolve("term")));
    assertThat(exec.stderr()).contains("stopped");
  }

  @Test
  void aNodeFunctionUnderTheInspectorAnswersJsonAndIsNeverTimedOut() throws Exception {
    Path m =
        manifest(
            "<function><id>slow</id><executable>node</executable><arg>"
                + TestManifests.child("slow.js")
                + "</arg><route>/slow</route><request_timeout>200ms</request_timeout>"
                + "<env name=\"SLOW_MS\">1500</env><debug>0</debug></function>");
    serving =
        MainProcess.start(
            temp, temp.resolve("logs"), "serve", m.toString(), "--bind", "127.0.0.1:0");
    String url = awaitStdout(LISTENING);
    int port = Integer.parseInt(awaitStdout(ATTACH));
    assertThat(serving.stdout()).contains("debugging 'slow' with Node inspector");
    await()
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(50))
        .ignoreExceptions()
        .until(() -> get("http://127.0.0.1:" + port + "/json").startsWith("200 ["));
    assertThat(get(url + "/slow")).startsWith("200 ").contains("\"slept\":1500");
  }

  @Test
  void aJavaFunctionUnderJdwpAcceptsAJdwpHandshake() throws Exception {
    Path m =
        manifest(
            "<function><id>j</id><executable>"
                + TestManifests.java()
                + "</executable><arg>-cp</arg><arg>"
                + TestManifests.javaExamplesClasspath()
                + "</arg><arg>example.Hello</arg><route>/j</route></function>");
    serving =
        MainProcess.start(
            temp,
            temp.resolve("logs"),
            "serve",
            m.toString(),
            "--bind",
            "127.0.0.1:0",
            "--debug",
            "j");
    String url = awaitStdout(LISTENING);
    int port = Integer.parseInt(awaitStdout(ATTACH));
    assertThat(serving.stdout()).contains("debugging 'j' with Java (JDWP)");
    await()
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(50))
        .ignoreExceptions()
        .until(() -> jdwpHandshake(port));
    assertThat(get(url + "/j")).startsWith("200 ");
  }

  private static boolean jdwpHandshake(int port) throws Exception {
    try (Socket s = new Socket(java.net.InetAddress.getLoopbackAddress(), port)) {
      s.setSoTimeout(10_000);
      OutputStream out = s.getOutputStream();
      out.write("JDWP-Handshake".getBytes(UTF_8));
      out.flush();
      InputStream in = s.getInputStream();
      return new String(in.readNBytes(14), UTF_8).equals("JDWP-Handshake");
    }
  }

  @Test
  void pythonWithoutDebugpyStartsPlainWithAClearMessage() throws Exception {
    Path m = manifest(python("py", "hello.py"));
    serving =
        MainProcess.start(
            java.util.Map.of("PYTHONNOUSERSITE", "1"),
            temp,
            temp.resolve("logs"),
            "serve",
            m.toString(),
            "--bind",
            "127.0.0.1:0",
            "--debug",
            "py");
    String url = awaitStdout(LISTENING);
    await().atMost(Duration.ofSeconds(30)).until(() -> serving.stdout().contains("debugpy"));
    if (serving.stdout().contains("cannot import debugpy")) {
      assertThat(serving.stdout()).contains("pip install debugpy").contains("without a debugger");
    } else {
      assertThat(serving.stdout()).contains("with Python (debugpy)");
    }
    assertThat(get(url + "/py/x")).startsWith("200 ");
  }

  @Test
  void anUnknownDebugIdIsRefused() throws Exception {
    Path m = manifest(python("py", "hello.py"));
    MainProcess p =
        MainProcess.run(temp, temp.resolve("logs"), "serve", m.toString(), "--debug", "nope");
    assertThat(p.exitCode()).isEqualTo(2);
    assertThat(p.stderr()).contains("--debug nope: the manifest has no function 'nope'");
  }
}
