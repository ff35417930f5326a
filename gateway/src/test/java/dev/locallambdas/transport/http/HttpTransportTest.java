package dev.locallambdas.transport.http;

import static dev.locallambdas.transport.http.Fixture.get;
import static dev.locallambdas.transport.http.Fixture.request;
import static dev.locallambdas.transport.http.Fixture.spec;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.locallambdas.clock.Clock;
import dev.locallambdas.clock.Scheduler;
import dev.locallambdas.exchange.Headers;
import dev.locallambdas.it.NoLeaks;
import dev.locallambdas.loops.EventLoops;
import dev.locallambdas.manifest.FunctionSpec;
import dev.locallambdas.manifest.HttpListen;
import dev.locallambdas.transport.CallRecorder;
import dev.locallambdas.transport.EndpointContext;
import dev.locallambdas.transport.Outcome;
import dev.locallambdas.transport.TransportException;
import dev.locallambdas.transport.TransportException.Kind;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The http transport against a real child server (python's http.server): requests and answers pass
 * through intact, keep-alive connections are reused, bad answers are refused, and readiness is
 * detected as before.
 */
@ExtendWith({NoLeaks.class, NoBufferLeaks.class})
class HttpTransportTest {
  private static EventLoops loops;

  @TempDir Path runDirectory;
  @TempDir Path logs;
  private Fixture child;

  @BeforeAll
  static void startLoops() {
    loops = EventLoops.start(2);
  }

  @AfterAll
  static void stopLoops() {
    loops.close();
  }

  @BeforeEach
  void setUp() {
    child = new Fixture(loops, runDirectory, logs);
  }

  @AfterEach
  void tearDown() throws Exception {
    child.close();
  }

  private CallRecorder sendWithBody(String method, String target, byte[]... pieces)
      throws Exception {
    long length = Arrays.stream(pieces).mapToLong(p -> p.length).sum();
    CallRecorder r = child.open(request(method, target, length), child.loopA);
    for (int i = 0; i < pieces.length; i++) {
      r.send(pieces[i], i == pieces.length - 1);
    }
    r.await();
    assertThat(r.failure()).isNull();
    assertThat(r.awaitRelease()).isEqualTo(Outcome.OK);
    return r;
  }

  @Test
  void forwardsGetWithQueryAndHeaders() throws Exception {
    child.startEcho();
    Headers headers =
        Headers.builder().add("Host", "example.test").add("X-Forwarded-For", "10.1.2.3").build();
    CallRecorder r = child.send(request("GET", "/echo/a%20b?x=1&y=%20", 0, headers));

    assertThat(r.status()).isEqualTo(200);
    assertThat(r.headers().get("x-method")).isEqualTo("GET");
    assertThat(r.headers().get("x-target")).isEqualTo("/echo/a%20b?x=1&y=%20");
    assertThat(r.headers().get("x-seen-host")).isEqualTo("example.test");
    assertThat(r.headers().get("x-seen-x-forwarded-for")).isEqualTo("10.1.2.3");
    assertThat(r.headers().get("x-seen-content-length")).isEqualTo("-");
    assertThat(r.headers().get("content-length")).isNull();
    assertThat(r.contentLength()).isZero();
    assertThat(r.bodyBytes()).isEmpty();
  }

  @Test
  void addsHostWhenTheRequestHasNone() throws Exception {
    child.startEcho();
    int port = Integer.parseInt(child.env().get("PORT"));
    assertThat(child.send(get("/echo/h")).headers().get("x-seen-host"))
        .isEqualTo("127.0.0.1:" + port);
  }

  @Test
  void postsFiveMegabytesByteExact() throws Exception {
    child.startEcho();
    byte[] body = new byte[5 * 1024 * 1024];
    new Random(42).nextBytes(body);
    byte[][] pieces = new byte[80][];
    for (int i = 0; i < pieces.length; i++) {
      pieces[i] = Arrays.copyOfRange(body, i * 65536, (i + 1) * 65536);
    }
    CallRecorder r = sendWithBody("POST", "/echo/big", pieces);

    assertThat(r.headers().get("x-seen-content-length")).isEqualTo(Integer.toString(body.length));
    assertThat(r.contentLength()).isEqualTo(body.length);
    assertThat(r.bodyBytes()).isEqualTo(body);
  }

  @Test
  void sendsBodyOfUnknownLengthChunked() throws Exception {
    child.startEcho();
    CallRecorder r = child.open(request("PUT", "/echo/chunked", -1), child.loopA);
    r.send("hello ".getBytes(StandardCharsets.US_ASCII), false);
    r.send(new byte[70_000], false);
    r.send("world".getBytes(StandardCharsets.US_ASCII), false);
    r.send(new byte[0], true);
    r.await();

    assertThat(r.headers().get("x-seen-transfer-encoding")).isEqualTo("chunked");
    assertThat(r.bodyBytes()).hasSize(6 + 70_000 + 5);
    assertThat(new String(r.bodyBytes(), 0, 6, StandardCharsets.US_ASCII)).isEqualTo("hello ");
  }

  @Test
  void streamsChunkedResponseWithoutFramingHeaders() throws Exception {
    child.startEcho();
    CallRecorder r = child.send(get("/chunked"));

    assertThat(r.status()).isEqualTo(200);
    assertThat(r.contentLength()).isEqualTo(-1);
    assertThat(r.headers().get("transfer-encoding")).isNull();
    assertThat(r.bodyText()).isEqualTo("first,second,third");
  }

  @Test
  void reusesKeepAliveConnection() throws Exception {
    child.startEcho();
    int before = child.serverConnections();
    for (int i = 0; i < 5; i++) {
      child.send(get("/echo/" + i));
      child.send(get("/chunked"));
      sendWithBody("POST", "/echo/p", "body".getBytes(StandardCharsets.US_ASCII));
    }
    assertThat(child.serverConnections()).isEqualTo(before);
    assertThat(child.endpoint.openConnections()).isEqualTo(1);
  }

  @Test
  void honoursConnectionClose() throws Exception {
    child.startEcho();
    int before = child.serverConnections();
    CallRecorder closed = child.send(get("/close"));

    assertThat(closed.bodyText()).isEqualTo("closed");
    assertThat(closed.headers().get("connection")).isNull();
    await().until(() -> child.endpoint.openConnections() == 0);
    assertThat(child.serverConnections()).isEqualTo(before + 1);
  }

  @Test
  void replacesPooledConnectionTheChildClosed() throws Exception {
    child.startEcho();
    int before = child.serverConnections();
    assertThat(child.send(get("/then-close")).bodyText()).isEqualTo("bye");
    await("the pool saw the child close").until(() -> child.endpoint.openConnections() == 0);

    assertThat(child.send(get("/echo/next")).status()).isEqualTo(200);
    assertThat(child.serverConnections()).isEqualTo(before + 1);
  }

  @Test
  void removesHopByHopFieldsFromResponse() throws Exception {
    child.startEcho();
    CallRecorder r = child.send(get("/hop"));

    assertThat(r.headers().get("x-public")).isEqualTo("visible");
    assertThat(r.headers().get("x-private")).isNull();
    assertThat(r.headers().get("keep-alive")).isNull();
    assertThat(r.headers().get("connection")).isNull();
    assertThat(r.headers().get("content-length")).isNull();
    assertThat(r.contentLength()).isEqualTo(2);
    assertThat(r.bodyText()).isEqualTo("ok");
  }

  @Test
  void headAnswerHasNoBodyAnnouncesItsLengthAndKeepsConnection() throws Exception {
    child.startEcho();
    int before = child.serverConnections();
    CallRecorder head = child.send(request("HEAD", "/stream?bytes=1000", 0));

    assertThat(head.status()).isEqualTo(200);
    assertThat(head.contentLength()).isEqualTo(1000);
    assertThat(head.bodyBytes()).isEmpty();
    assertThat(child.serverConnections()).isEqualTo(before);
  }

  @Test
  void rejectsCarriageReturnInHeaderValue() throws Exception {
    child.startEcho();
    CallRecorder r = child.open(get("/bad-cr"), child.loopA).await();

    assertThat(r.failure().kind()).isEqualTo(Kind.PROTOCOL);
    assertThat(r.failure()).hasMessageContaining("control character");
    assertThat(r.status()).isZero();
    assertThat(r.awaitRelease()).isEqualTo(Outcome.BROKEN);
  }

  @Test
  void rejectsInvalidHeaderName() throws Exception {
    child.startEcho();
    CallRecorder r = child.open(get("/bad-name"), child.loopA).await();

    assertThat(r.failure().kind()).isEqualTo(Kind.PROTOCOL);
    assertThat(r.failure()).hasMessageContaining("invalid header line (name 'Bad'");
    assertThat(r.awaitRelease()).isEqualTo(Outcome.BROKEN);
    assertThat(child.send(get("/echo/after")).status()).isEqualTo(200);
  }

  @Test
  void servesOverUnixSocketAndRemovesIt() throws Exception {
    child.start(
        spec(b -> b.httpListen(HttpListen.UNIX)), new HttpTransport(), "http_echo_server.py");
    Path socket = Path.of(child.env().get("HTTP_SOCKET"));
    assertThat(socket).isEqualTo(runDirectory.toAbsolutePath().resolve("echo-1.http.sock"));
    assertThat(child.env()).containsEntry("HTTP_ADDRESS", "unix:" + socket);

    CallRecorder r = sendWithBody("POST", "/echo/u?q=1", "hi".getBytes(StandardCharsets.US_ASCII));
    assertThat(r.headers().get("x-target")).isEqualTo("/echo/u?q=1");
    assertThat(r.headers().get("x-seen-host")).isEqualTo("localhost");
    assertThat(r.bodyText()).isEqualTo("hi");
    assertThat(child.send(get("/echo/again")).status()).isEqualTo(200);
    assertThat(child.endpoint.openConnections()).isEqualTo(1);

    child.endpoint.close();
    assertThat(socket).doesNotExist();
  }

  @Test
  void waitsForReadyPath() throws Exception {
    child.start(spec(b -> b.readyPath("/connections")), new HttpTransport(), "http_echo_server.py");
    assertThat(child.send(get("/echo/x")).status()).isEqualTo(200);
    assertThat(child.endpoint.openConnections())
        .as("the readiness probe's connection is reused")
        .isEqualTo(1);
  }

  @Test
  void reportsReadyPathAnsweringWithAServerError() throws Exception {
    child.prepare(spec(b -> b.readyPath("/bad-cr")), ticking(Duration.ofSeconds(1)));
    Process p =
        child.children.start(
            child.env(), "python3", Children.script("http_echo_server.py").toString());

    assertThatThrownBy(() -> child.endpoint.awaitReady(Duration.ofSeconds(60), p.toHandle()))
        .isInstanceOfSatisfying(
            TransportException.class, e -> assertThat(e.kind()).isEqualTo(Kind.NOT_READY))
        .hasMessageContaining("answer GET /bad-cr")
        .hasMessageContaining("control character");
  }

  @Test
  void reportsPortTakenByAnotherProcessWhenChildCannotBind() throws Exception {
    child.prepare(spec(b -> b), new HttpTransport());
    int port = Integer.parseInt(child.env().get("PORT"));
    assertThat(child.env()).containsEntry("HTTP_ADDRESS", "127.0.0.1:" + port);
    try (ServerSocket squatter = new ServerSocket()) {
      squatter.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
      Process p =
          child.children.start(
              child.env(), "python3", Children.script("http_echo_server.py").toString());

      assertThatThrownBy(() -> child.endpoint.awaitReady(Fixture.STARTUP, p.toHandle()))
          .isInstanceOfSatisfying(
              TransportException.class, e -> assertThat(e.kind()).isEqualTo(Kind.NOT_READY))
          .hasMessageContaining(
              "port "
                  + port
                  + " is taken by another process (pid "
                  + ProcessHandle.current().pid()
                  + ")");
    }
  }

  @Test
  void reportsPortTakenByAnotherProcessWhenChildNeverBinds() throws Exception {
    child.prepare(spec(b -> b), new HttpTransport());
    int port = Integer.parseInt(child.env().get("PORT"));
    try (ServerSocket squatter = new ServerSocket()) {
      squatter.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
      Process p =
          child.children.start(child.env(), "python3", "-c", "import time; time.sleep(600)");

      assertThatThrownBy(() -> child.endpoint.awaitReady(Fixture.STARTUP, p.toHandle()))
          .isInstanceOfSatisfying(
              TransportException.class, e -> assertThat(e.kind()).isEqualTo(Kind.NOT_READY))
          .hasMessageContaining("port " + port + " is taken by another process");
    }
  }

  @Test
  void reportsChildThatExitsBeforeListening() throws Exception {
    child.prepare(spec(b -> b), new HttpTransport());
    Process p = child.children.start(child.env(), "python3", "-c", "pass");

    assertThatThrownBy(() -> child.endpoint.awaitReady(Fixture.STARTUP, p.toHandle()))
        .isInstanceOfSatisfying(
            TransportException.class, e -> assertThat(e.kind()).isEqualTo(Kind.NOT_READY))
        .hasMessageContaining("exited before it did accept connections on 127.0.0.1:");
  }

  @Test
  void reportsChildThatNeverListensWithinTimeout() throws Exception {
    child.prepare(spec(b -> b), ticking(Duration.ofSeconds(10)));
    int port = Integer.parseInt(child.env().get("PORT"));
    Process p = child.children.start(child.env(), "python3", "-c", "import time; time.sleep(600)");

    assertThatThrownBy(() -> child.endpoint.awaitReady(Duration.ofMinutes(5), p.toHandle()))
        .isInstanceOfSatisfying(
            TransportException.class, e -> assertThat(e.kind()).isEqualTo(Kind.NOT_READY))
        .hasMessageContaining("did not accept connections on 127.0.0.1:" + port + " within 300s");
  }

  /** A transport whose clock moves {@code step} each time it is read: start-up deadlines pass. */
  private static HttpTransport ticking(Duration step) {
    AtomicLong now = new AtomicLong();
    Clock clock = () -> now.addAndGet(step.toNanos());
    return new HttpTransport(clock, Scheduler::on);
  }

  @Test
  void unixSocketPathMustFit() {
    Path deep = runDirectory.resolve("d".repeat(120));
    EndpointContext context =
        new EndpointContext(
            FunctionSpec.builder("f").executable("x").route("/f/*").build(), 1, deep);
    assertThatThrownBy(() -> context.socketFile("x.sock"))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("more than the 107");
    assertThat(Files.exists(deep)).isFalse();
  }
}
