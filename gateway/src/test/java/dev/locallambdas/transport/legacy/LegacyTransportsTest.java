package dev.locallambdas.transport.legacy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.locallambdas.exchange.Headers;
import dev.locallambdas.exchange.Request;
import dev.locallambdas.json.Json;
import dev.locallambdas.loops.EventLoops;
import dev.locallambdas.manifest.FunctionSpec;
import dev.locallambdas.manifest.Protocol;
import dev.locallambdas.transport.CallRecorder;
import dev.locallambdas.transport.Endpoint;
import dev.locallambdas.transport.EndpointContext;
import dev.locallambdas.transport.HttpTestChildren;
import dev.locallambdas.transport.Outcome;
import dev.locallambdas.transport.Transport;
import dev.locallambdas.transport.TransportException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.assertj.core.api.InstanceOfAssertFactories;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class LegacyTransportsTest {
  private static final Duration STARTUP = Duration.ofSeconds(20);

  /** The two legacy modes, each with its example service from examples/legacy. */
  enum Mode {
    PIPE(
        Protocol.LEGACY_PIPE, "/pipe", "examples/legacy/pipe_only_service.py", "pipe_only_service"),
    HTTP(
        Protocol.LEGACY_HTTP, "/http", "examples/legacy/http_only_service.py", "http_only_service");

    final Protocol protocol;
    final String prefix;
    final String script;
    final String service;

    Mode(Protocol protocol, String prefix, String script, String service) {
      this.protocol = protocol;
      this.prefix = prefix;
      this.script = script;
      this.service = service;
    }

    Transport transport() {
      return protocol == Protocol.LEGACY_PIPE
          ? new LegacyPipeTransport()
          : new LegacyHttpTransport();
    }
  }

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

  private static FunctionSpec spec(Mode mode) {
    return FunctionSpec.builder("legacy-" + mode.name().toLowerCase(java.util.Locale.ROOT))
        .executable("python3")
        .arg(mode.script)
        .route(mode.prefix + "/*")
        .pipeName("legacy_" + mode.name().toLowerCase(java.util.Locale.ROOT))
        .protocol(mode.protocol)
        .maxBodyBytes(1024 * 1024)
        .build();
  }

  private void start(Mode mode) throws Exception {
    endpoint = mode.transport().prepare(new EndpointContext(spec(mode), 1, runDirectory));
    Process p =
        children.start(
            endpoint.environment(), HttpTestChildren.repository(), "python3", mode.script);
    endpoint.awaitReady(STARTUP, p.toHandle());
  }

  private static EventLoops loops;

  @BeforeAll
  static void startLoops() {
    loops = EventLoops.start(1);
  }

  @AfterAll
  static void stopLoops() {
    loops.close();
  }

  /** Sends a request through a real call; returns it once it ended or failed. */
  private CallRecorder call(String method, String path, String query, Headers headers, byte[] body)
      throws Exception {
    CallRecorder call =
        CallRecorder.open(
            endpoint,
            new Request(method, path, query, headers, body.length, "127.0.0.1"),
            30_000,
            loops.next());
    if (body.length > 0) {
      call.send(body, true);
    }
    call.await();
    assertThat(call.violations()).isEmpty();
    return call;
  }

  private CallRecorder send(String method, String path, String query, Headers headers, byte[] body)
      throws Exception {
    CallRecorder call = call(method, path, query, headers, body);
    if (call.failure() != null) {
      throw call.failure();
    }
    assertThat(call.ended()).isTrue();
    assertThat(call.awaitRelease()).isEqualTo(Outcome.OK);
    return call;
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> echo(CallRecorder call) throws Json.SyntaxException {
    return (Map<String, Object>) Json.parse(call.bodyBytes());
  }

  @ParameterizedTest
  @EnumSource(Mode.class)
  void roundTripsBinaryBodyAndHeaders(Mode mode) throws Exception {
    start(mode);
    byte[] body = new byte[256 * 3];
    for (int i = 0; i < body.length; i++) {
      body[i] = (byte) i;
    }
    Headers headers = Headers.builder().add("X-Test", "yes \"quoted\" é").build();
    CallRecorder sink = send("POST", mode.prefix + "/items", null, headers, body);

    assertThat(sink.status()).isEqualTo(200);
    assertThat(sink.headers().get("content-type")).isEqualTo("application/json");
    assertThat(sink.headers().get("x-service")).isEqualTo(mode.service);
    assertThat(sink.contentLength()).isEqualTo(sink.bodyBytes().length);
    Map<String, Object> echo = echo(sink);
    assertThat(echo.get("method")).isEqualTo("POST");
    assertThat(echo.get("uri")).isEqualTo(mode.prefix + "/items");
    assertThat(echo.get("query")).isSameAs(Json.NULL);
    assertThat(echo.get("headers"))
        .asInstanceOf(InstanceOfAssertFactories.LIST)
        .contains(List.of("x-test", "yes \"quoted\" é"));
    assertThat(Base64.getDecoder().decode((String) echo.get("body"))).isEqualTo(body);

    // The child serves request after request (a new connection each time for the pipe mode).
    for (int i = 0; i < 3; i++) {
      assertThat(send("GET", mode.prefix + "/again", null, Headers.empty(), new byte[0]).status())
          .isEqualTo(200);
    }
  }

  @ParameterizedTest
  @EnumSource(Mode.class)
  void sendsQueryAsSeparateField(Mode mode) throws Exception {
    start(mode);
    Map<String, Object> echo =
        echo(send("GET", mode.prefix + "/search", "q=a%20b&n=1", Headers.empty(), new byte[0]));

    assertThat(echo.get("uri")).isEqualTo(mode.prefix + "/search");
    assertThat(echo.get("query")).isEqualTo("q=a%20b&n=1");
    assertThat(echo.get("body")).isEqualTo("");
  }

  @ParameterizedTest
  @EnumSource(Mode.class)
  void answersEmptyBodyForInvalidBase64(Mode mode) throws Exception {
    start(mode);
    CallRecorder sink =
        send("GET", mode.prefix + "/broken/base64", null, Headers.empty(), new byte[0]);

    assertThat(sink.status()).isEqualTo(200);
    assertThat(sink.headers().size()).isZero();
    assertThat(sink.contentLength()).isZero();
    assertThat(sink.bodyBytes()).isEmpty();
  }

  @ParameterizedTest
  @EnumSource(Mode.class)
  void malformedJsonAnswerFailsTheRequestButNotTheInstance(Mode mode) throws Exception {
    start(mode);
    assertThatThrownBy(
            () -> send("GET", mode.prefix + "/broken/json", null, Headers.empty(), new byte[0]))
        .isInstanceOfSatisfying(
            TransportException.class, e -> assertThat(e.kind().breaksInstance()).isFalse())
        .hasMessageContaining("not JSON");
  }

  @ParameterizedTest
  @EnumSource(Mode.class)
  void refusesBodyLargerThanLimit(Mode mode) throws Exception {
    start(mode);
    CallRecorder call =
        call("POST", mode.prefix + "/big", null, Headers.empty(), new byte[1024 * 1024 + 1]);
    assertThat(call.failure()).hasMessageContaining("larger than the limit");
    assertThat(call.awaitRelease()).isEqualTo(Outcome.FAILED);
  }

  @Test
  void pipeSocketLivesInRunDirectoryAndIsRemoved() throws Exception {
    start(Mode.PIPE);
    Path socket = Path.of(endpoint.environment().get("PIPE_ADDRESS"));
    assertThat(socket).isEqualTo(runDirectory.toAbsolutePath().resolve("legacy_pipe-1.sock"));
    assertThat(socket).exists();

    endpoint.close();
    assertThat(socket).doesNotExist();
  }

  @Test
  void httpChildGetsAddressAndPort() throws Exception {
    endpoint = Mode.HTTP.transport().prepare(new EndpointContext(spec(Mode.HTTP), 1, runDirectory));
    String port = endpoint.environment().get("PORT");
    assertThat(endpoint.environment()).containsEntry("HTTP_ADDRESS", "127.0.0.1:" + port);
  }

  @Test
  void pipeNameIsMadeSafeForFileNames() {
    assertThat(LegacyPipeTransport.fileNamePart("../etc/x y")).isEqualTo(".._etc_x_y");
  }
}
