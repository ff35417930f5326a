package dev.locallambdas.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.locallambdas.exchange.BodySource;
import dev.locallambdas.exchange.Headers;
import dev.locallambdas.exchange.Request;
import dev.locallambdas.manifest.FunctionSpec;
import dev.locallambdas.manifest.HttpListen;
import dev.locallambdas.manifest.Protocol;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HttpTransportTest {
  private static final Duration STARTUP = Duration.ofSeconds(20);

  @TempDir Path runDirectory;
  @TempDir Path logs;
  private HttpTestChildren children;
  private Endpoint endpoint;

  @BeforeEach
  void setUp() {
    children = new HttpTestChildren(logs);
  }

  @AfterEach
  void tearDown() throws InterruptedException {
    if (endpoint != null) {
      endpoint.close();
    }
    children.stopAll();
  }

  private static FunctionSpec spec(UnaryOperator<FunctionSpec.Builder> more) {
    return more.apply(
            FunctionSpec.builder("echo")
                .executable("python3")
                .route("/echo/*")
                .protocol(Protocol.HTTP))
        .build();
  }

  private Endpoint startEcho(FunctionSpec spec) throws Exception {
    endpoint = new HttpTransport().prepare(new EndpointContext(spec, 1, runDirectory));
    Process p =
        children.start(
            endpoint.environment(),
            null,
            "python3",
            HttpTestChildren.testScript("http_echo_server.py").toString());
    endpoint.awaitReady(STARTUP, p.toHandle());
    return endpoint;
  }

  private static Request get(String path, String query) {
    return new Request("GET", path, query, Headers.empty(), BodySource.empty(), "127.0.0.1");
  }

  private HttpTestSink send(Request request) throws IOException {
    HttpTestSink sink = new HttpTestSink();
    endpoint.exchange(request, sink);
    assertThat(sink.ended).isTrue();
    return sink;
  }

  private int serverConnections() throws IOException {
    return Integer.parseInt(send(get("/connections", null)).text());
  }

  @Test
  void forwardsGetWithQueryAndHeaders() throws Exception {
    startEcho(spec(b -> b));
    Headers headers =
        Headers.builder().add("Host", "example.test").add("X-Forwarded-For", "10.1.2.3").build();
    HttpTestSink sink =
        send(
            new Request(
                "GET", "/echo/a%20b", "x=1&y=%20", headers, BodySource.empty(), "10.1.2.3"));

    assertThat(sink.status).isEqualTo(200);
    assertThat(sink.headers.get("x-method")).isEqualTo("GET");
    assertThat(sink.headers.get("x-target")).isEqualTo("/echo/a%20b?x=1&y=%20");
    assertThat(sink.headers.get("x-seen-host")).isEqualTo("example.test");
    assertThat(sink.headers.get("x-seen-x-forwarded-for")).isEqualTo("10.1.2.3");
    assertThat(sink.headers.get("x-seen-content-length")).isEqualTo("-");
    assertThat(sink.headers.get("content-length")).isNull();
    assertThat(sink.contentLength).isZero();
    assertThat(sink.bytes()).isEmpty();
  }

  @Test
  void postsFiveMegabytesByteExact() throws Exception {
    startEcho(spec(b -> b));
    byte[] body = new byte[5 * 1024 * 1024];
    new Random(42).nextBytes(body);
    HttpTestSink sink =
        send(new Request("POST", "/echo/big", null, Headers.empty(), BodySource.of(body), "x"));

    assertThat(sink.headers.get("x-seen-content-length")).isEqualTo(Integer.toString(body.length));
    assertThat(sink.contentLength).isEqualTo(body.length);
    assertThat(sink.bytes()).isEqualTo(body);
  }

  @Test
  void sendsBodyOfUnknownLengthChunked() throws Exception {
    startEcho(spec(b -> b));
    byte[][] pieces = {"hello ".getBytes(), new byte[70_000], "world".getBytes()};
    BodySource chunked =
        new BodySource() {
          int next;

          @Override
          public long length() {
            return -1;
          }

          @Override
          public ByteBuffer next() {
            return next < pieces.length ? ByteBuffer.wrap(pieces[next++]) : null;
          }
        };
    HttpTestSink sink =
        send(new Request("PUT", "/echo/chunked", null, Headers.empty(), chunked, "x"));

    assertThat(sink.headers.get("x-seen-transfer-encoding"))
        .as(sink.headers.toString())
        .isEqualTo("chunked");
    assertThat(sink.bytes()).hasSize(6 + 70_000 + 5);
    assertThat(new String(sink.bytes(), 0, 6)).isEqualTo("hello ");
  }

  @Test
  void streamsChunkedResponseWithoutFramingHeaders() throws Exception {
    startEcho(spec(b -> b));
    HttpTestSink sink = send(get("/chunked", null));

    assertThat(sink.status).isEqualTo(200);
    assertThat(sink.contentLength).isEqualTo(-1);
    assertThat(sink.headers.get("transfer-encoding")).isNull();
    assertThat(sink.text()).isEqualTo("first,second,third");
  }

  @Test
  void reusesKeepAliveConnection() throws Exception {
    startEcho(spec(b -> b));
    int before = serverConnections();
    for (int i = 0; i < 5; i++) {
      send(get("/echo/" + i, null));
      send(get("/chunked", null));
    }
    assertThat(serverConnections()).isEqualTo(before);
    assertThat(((HttpEndpoint) endpoint).openConnections()).isEqualTo(1);
  }

  @Test
  void honoursConnectionClose() throws Exception {
    startEcho(spec(b -> b));
    int before = serverConnections();
    HttpTestSink closed = send(get("/close", null));

    assertThat(closed.text()).isEqualTo("closed");
    assertThat(closed.headers.get("connection")).isNull();
    assertThat(((HttpEndpoint) endpoint).openConnections()).isZero();
    assertThat(serverConnections()).isEqualTo(before + 1);
  }

  @Test
  void replacesPooledConnectionTheChildClosed() throws Exception {
    startEcho(spec(b -> b));
    int before = serverConnections();
    assertThat(send(get("/then-close", null)).text()).isEqualTo("bye");

    assertThat(send(get("/echo/next", null)).status).isEqualTo(200);
    assertThat(serverConnections()).isEqualTo(before + 1);
  }

  @Test
  void stopsExchangeWhenThreadIsInterrupted() throws Exception {
    startEcho(spec(b -> b));
    AtomicReference<Throwable> failure = new AtomicReference<>();
    Thread t =
        Thread.ofVirtual()
            .start(
                () -> {
                  try {
                    send(get("/slow", null));
                  } catch (Throwable e) {
                    failure.set(e);
                  }
                });
    await().until(() -> ((HttpEndpoint) endpoint).openConnections() == 1);
    t.interrupt();
    t.join();
    assertThat(failure.get()).isInstanceOf(InterruptedIOException.class);
    assertThat(((HttpEndpoint) endpoint).openConnections()).isZero();
  }

  @Test
  void closingEndpointFailsExchangeInProgress() throws Exception {
    startEcho(spec(b -> b));
    AtomicReference<Throwable> failure = new AtomicReference<>();
    Thread t =
        Thread.ofVirtual()
            .start(
                () -> {
                  try {
                    send(get("/slow", null));
                  } catch (Throwable e) {
                    failure.set(e);
                  }
                });
    await().until(() -> ((HttpEndpoint) endpoint).openConnections() == 1);
    endpoint.close();
    t.join();
    assertThat(failure.get())
        .isInstanceOfSatisfying(
            TransportException.class,
            e -> assertThat(e.kind()).isEqualTo(TransportException.Kind.CHILD_FAILED));
  }

  @Test
  void removesHopByHopFieldsFromResponse() throws Exception {
    startEcho(spec(b -> b));
    HttpTestSink sink = send(get("/hop", null));

    assertThat(sink.headers.get("x-public")).isEqualTo("visible");
    assertThat(sink.headers.get("x-private")).isNull();
    assertThat(sink.headers.get("keep-alive")).isNull();
    assertThat(sink.headers.get("connection")).isNull();
    assertThat(sink.headers.get("content-length")).isNull();
    assertThat(sink.contentLength).isEqualTo(2);
    assertThat(sink.text()).isEqualTo("ok");
  }

  @Test
  void headAnswerHasNoBodyAndKeepsConnection() throws Exception {
    startEcho(spec(b -> b));
    int before = serverConnections();
    HttpTestSink head =
        send(new Request("HEAD", "/echo/h", null, Headers.empty(), BodySource.empty(), "x"));

    assertThat(head.status).isEqualTo(200);
    assertThat(head.bytes()).isEmpty();
    assertThat(serverConnections()).isEqualTo(before);
  }

  @Test
  void rejectsCarriageReturnInHeaderValue() throws Exception {
    startEcho(spec(b -> b));
    assertThatThrownBy(() -> send(get("/bad-cr", null)))
        .isInstanceOfSatisfying(
            TransportException.class,
            e -> assertThat(e.kind()).isEqualTo(TransportException.Kind.PROTOCOL))
        .hasMessageContaining("CR");
  }

  @Test
  void rejectsInvalidHeaderName() throws Exception {
    startEcho(spec(b -> b));
    assertThatThrownBy(() -> send(get("/bad-name", null)))
        .isInstanceOfSatisfying(
            TransportException.class,
            e -> assertThat(e.kind()).isEqualTo(TransportException.Kind.PROTOCOL))
        .hasMessageContaining("invalid name 'Bad Name'");
    assertThat(send(get("/echo/after", null)).status).isEqualTo(200);
  }

  @Test
  void servesOverUnixSocketAndRemovesIt() throws Exception {
    startEcho(spec(b -> b.httpListen(HttpListen.UNIX)));
    Path socket = Path.of(endpoint.environment().get("HTTP_SOCKET"));
    assertThat(socket).isEqualTo(runDirectory.toAbsolutePath().resolve("echo-1.http.sock"));
    assertThat(endpoint.environment()).containsEntry("HTTP_ADDRESS", "unix:" + socket);

    HttpTestSink sink =
        send(
            new Request(
                "POST", "/echo/u", "q=1", Headers.empty(), BodySource.of("hi".getBytes()), "x"));
    assertThat(sink.headers.get("x-target")).isEqualTo("/echo/u?q=1");
    assertThat(sink.text()).isEqualTo("hi");

    endpoint.close();
    assertThat(socket).doesNotExist();
  }

  @Test
  void waitsForReadyPath() throws Exception {
    startEcho(spec(b -> b.readyPath("/connections")));
    assertThat(send(get("/echo/x", null)).status).isEqualTo(200);
  }

  @Test
  void reportsPortTakenByAnotherProcessWhenChildCannotBind() throws Exception {
    endpoint = new HttpTransport().prepare(new EndpointContext(spec(b -> b), 1, runDirectory));
    int port = Integer.parseInt(endpoint.environment().get("PORT"));
    assertThat(endpoint.environment()).containsEntry("HTTP_ADDRESS", "127.0.0.1:" + port);
    try (ServerSocket squatter = new ServerSocket()) {
      squatter.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
      Process p =
          children.start(
              endpoint.environment(),
              null,
              "python3",
              HttpTestChildren.testScript("http_echo_server.py").toString());

      assertThatThrownBy(() -> endpoint.awaitReady(STARTUP, p.toHandle()))
          .isInstanceOfSatisfying(
              TransportException.class,
              e -> assertThat(e.kind()).isEqualTo(TransportException.Kind.NOT_READY))
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
    endpoint = new HttpTransport().prepare(new EndpointContext(spec(b -> b), 1, runDirectory));
    int port = Integer.parseInt(endpoint.environment().get("PORT"));
    try (ServerSocket squatter = new ServerSocket()) {
      squatter.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
      Process p =
          children.start(
              endpoint.environment(), null, "python3", "-c", "import time; time.sleep(600)");

      assertThatThrownBy(() -> endpoint.awaitReady(STARTUP, p.toHandle()))
          .isInstanceOfSatisfying(
              TransportException.class,
              e -> assertThat(e.kind()).isEqualTo(TransportException.Kind.NOT_READY))
          .hasMessageContaining("port " + port + " is taken by another process");
    }
  }

  @Test
  void reportsChildThatExitsBeforeListening() throws Exception {
    endpoint = new HttpTransport().prepare(new EndpointContext(spec(b -> b), 1, runDirectory));
    Process p = children.start(endpoint.environment(), null, "python3", "-c", "pass");

    assertThatThrownBy(() -> endpoint.awaitReady(STARTUP, p.toHandle()))
        .isInstanceOfSatisfying(
            TransportException.class,
            e -> assertThat(e.kind()).isEqualTo(TransportException.Kind.NOT_READY))
        .hasMessageContaining("exited before it did accept connections on 127.0.0.1:");
  }

  @Test
  void reportsChildThatNeverListensWithinTimeout() throws Exception {
    endpoint = new HttpTransport().prepare(new EndpointContext(spec(b -> b), 1, runDirectory));
    int port = Integer.parseInt(endpoint.environment().get("PORT"));
    Process p =
        children.start(
            endpoint.environment(), null, "python3", "-c", "import time; time.sleep(600)");

    assertThatThrownBy(() -> endpoint.awaitReady(Duration.ofMillis(300), p.toHandle()))
        .isInstanceOfSatisfying(
            TransportException.class,
            e -> assertThat(e.kind()).isEqualTo(TransportException.Kind.NOT_READY))
        .hasMessageContaining("did not accept connections on 127.0.0.1:" + port + " within 300ms");
  }

  @Test
  void unixSocketPathMustFit() {
    Path deep = runDirectory.resolve("d".repeat(120));
    assertThatThrownBy(() -> HttpTransport.socketPath(deep, "x.sock"))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("more than the 107");
    assertThat(Files.exists(deep)).isFalse();
  }
}
