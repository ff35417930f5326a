package dev.locallambdas.transport.legacy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.locallambdas.exchange.Headers;
import dev.locallambdas.exchange.Request;
import dev.locallambdas.loops.EventLoops;
import dev.locallambdas.manifest.FunctionSpec;
import dev.locallambdas.manifest.Protocol;
import dev.locallambdas.transport.CallRecorder;
import dev.locallambdas.transport.Endpoint;
import dev.locallambdas.transport.EndpointContext;
import dev.locallambdas.transport.HttpTestChildren;
import dev.locallambdas.transport.Transport;
import dev.locallambdas.transport.TransportException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Answers of children written for the original local_lambdas that are well-formed JSON but odd
 * (children/legacy_odd.py): each is relayed as the original relayed it, or as close as HTTP allows
 * (ADR 0007), with one warning per instance and kind of oddity; only answers that cannot be relayed
 * at all fail the request, and even those leave the instance in service.
 */
class LegacyOddAnswersTest {
  private static final Logger LEGACY_LOG = Logger.getLogger("dev.locallambdas.transport.legacy");

  enum Mode {
    PIPE(Protocol.LEGACY_PIPE),
    HTTP(Protocol.LEGACY_HTTP);

    final Protocol protocol;

    Mode(Protocol protocol) {
      this.protocol = protocol;
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
  private final List<LogRecord> warnings = new CopyOnWriteArrayList<>();
  private final Handler capture =
      new Handler() {
        @Override
        public void publish(LogRecord r) {
          if (r.getLevel().intValue() >= Level.WARNING.intValue()) {
            warnings.add(r);
          }
        }

        @Override
        public void flush() {}

        @Override
        public void close() {}
      };

  @BeforeEach
  void setUp() {
    children = new HttpTestChildren(logs);
    LEGACY_LOG.addHandler(capture);
  }

  @AfterEach
  void tearDown() throws InterruptedException {
    LEGACY_LOG.removeHandler(capture);
    if (endpoint != null) {
      endpoint.close();
    }
    children.stopAll();
  }

  private void start(Mode mode) throws Exception {
    FunctionSpec spec =
        FunctionSpec.builder("odd")
            .executable("python3")
            .arg("legacy_odd.py")
            .route("/odd/*")
            .protocol(mode.protocol)
            .build();
    endpoint = mode.transport().prepare(new EndpointContext(spec, 1, runDirectory));
    Path script = HttpTestChildren.testScript("legacy_odd.py");
    Process p = children.start(endpoint.environment(), null, "python3", script.toString());
    endpoint.awaitReady(Duration.ofSeconds(20), p.toHandle());
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

  private CallRecorder call(String cue) throws Exception {
    CallRecorder call =
        CallRecorder.open(
                endpoint,
                new Request("GET", "/odd/" + cue, null, Headers.empty(), 0, "127.0.0.1"),
                30_000,
                loops.next())
            .await();
    assertThat(call.violations()).isEmpty();
    return call;
  }

  private CallRecorder get(String cue) throws Exception {
    CallRecorder call = call(cue);
    if (call.failure() != null) {
      throw call.failure();
    }
    assertThat(call.ended()).isTrue();
    return call;
  }

  private List<String> warningTexts() {
    return warnings.stream().map(LogRecord::getMessage).toList();
  }

  @ParameterizedTest
  @EnumSource(Mode.class)
  void aStatusThatIsNotANumberOrNotAnHttpStatusIsAnsweredAsTheOriginalDid(Mode mode)
      throws Exception {
    start(mode);

    CallRecorder string = get("status-string");
    assertThat(string.status()).isEqualTo(200);
    assertThat(string.bodyText()).isEqualTo("string status");
    assertThat(string.headers().get("x-pid")).isNotNull();

    assertThat(get("status-zero").status()).isEqualTo(200);
    assertThat(get("status-float").status()).isEqualTo(200);
    assertThat(get("status-negative").status()).isEqualTo(200);
    assertThat(get("status-404").status()).isEqualTo(404);

    // 600-999: the original sent them on; HTTP has no such statuses and a client must treat one
    // as a server error (RFC 9110 section 15), so the gateway says 500 and keeps the answer.
    CallRecorder huge = get("status-999");
    assertThat(huge.status()).isEqualTo(500);
    assertThat(huge.bodyText()).isEqualTo("nine nine nine");

    // 1xx cannot end an exchange: the original's server (hyper) answered 500 with no body.
    CallRecorder informational = get("status-101");
    assertThat(informational.status()).isEqualTo(500);
    assertThat(informational.bodyBytes()).isEmpty();

    // One warning per kind: a float status is "not a number" like the string, -1 is "not an HTTP
    // status" like 0.
    assertThat(warningTexts())
        .hasSize(4)
        .anySatisfy(w -> assertThat(w).contains("odd#1").contains("\"404\"").contains("200"))
        .anySatisfy(w -> assertThat(w).contains("status 0").contains("200"))
        .anySatisfy(w -> assertThat(w).contains("status 999").contains("500"))
        .anySatisfy(w -> assertThat(w).contains("status 101").contains("500"));
  }

  @ParameterizedTest
  @EnumSource(Mode.class)
  void oddHeadersAndBodiesAreDroppedNotFatal(Mode mode) throws Exception {
    start(mode);

    CallRecorder numbers = get("header-number");
    assertThat(numbers.status()).isEqualTo(200);
    assertThat(numbers.headers().get("x-pid")).isNotNull();
    assertThat(numbers.headers().get("x-count")).isNull();
    assertThat(numbers.headers().get("x-flag")).isNull();

    CallRecorder lists = get("header-list");
    assertThat(lists.headers().all("x-many")).containsExactly("a", "b");
    assertThat(lists.headers().get("x-mixed")).isNull();

    CallRecorder array = get("headers-array");
    assertThat(array.status()).isEqualTo(201);
    assertThat(array.headers().size()).isZero();
    assertThat(array.bodyText()).isEqualTo("array");

    CallRecorder body = get("body-number");
    assertThat(body.status()).isEqualTo(200);
    assertThat(body.bodyBytes()).isEmpty();

    CallRecorder notObject = get("not-object");
    assertThat(notObject.status()).isEqualTo(200);
    assertThat(notObject.headers().size()).isZero();
    assertThat(notObject.bodyBytes()).isEmpty();

    assertThat(get("body-not-base64").bodyBytes()).isEmpty();

    assertThat(warningTexts())
        .anySatisfy(w -> assertThat(w).contains("'X-Count'"))
        .anySatisfy(w -> assertThat(w).contains("\"headers\"").contains("array"))
        .anySatisfy(w -> assertThat(w).contains("\"body\"").contains("number"))
        .anySatisfy(w -> assertThat(w).contains("array instead of an object"))
        .anySatisfy(w -> assertThat(w).contains("base64"));
  }

  @ParameterizedTest
  @EnumSource(Mode.class)
  void theSameOddityIsLoggedOncePerInstance(Mode mode) throws Exception {
    start(mode);
    for (int i = 0; i < 3; i++) {
      assertThat(get("status-string").status()).isEqualTo(200);
      assertThat(get("header-number").status()).isEqualTo(200);
    }
    assertThat(warningTexts()).hasSize(2);
  }

  @ParameterizedTest
  @EnumSource(Mode.class)
  void anAnswerThatCannotBeRelayedFailsTheRequestButNotTheInstance(Mode mode) throws Exception {
    start(mode);
    String pid = get("pid").headers().get("x-pid");
    List<String> cues =
        mode == Mode.HTTP
            ? List.of("not-json", "truncated", "header-bad-name", "header-bad-value", "http-500")
            : List.of("not-json", "truncated", "header-bad-name", "header-bad-value");

    for (String cue : cues) {
      TransportException e = catchThrowableOfType(TransportException.class, () -> get(cue));
      assertThat(e).as(cue).isNotNull();
      assertThat(e.kind().breaksInstance()).as(cue + ": " + e.getMessage()).isFalse();
      assertThat(get("pid").headers().get("x-pid"))
          .as("answered by the same process")
          .isEqualTo(pid);
    }
    // Text that is not JSON and JSON cut short are one kind of oddity.
    assertThat(warningTexts()).hasSize(cues.size() - 1);
    assertThat(String.join("\n", warningTexts()))
        .contains("not JSON")
        .contains("'Bad Name'")
        .contains("control character");
  }
}
