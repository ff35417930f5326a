package dev.locallambdas.transport.lambda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.locallambdas.exchange.Headers;
import dev.locallambdas.exchange.Request;
import dev.locallambdas.loops.EventLoops;
import dev.locallambdas.manifest.FunctionSpec;
import dev.locallambdas.manifest.Protocol;
import dev.locallambdas.transport.Call;
import dev.locallambdas.transport.CallListener;
import dev.locallambdas.transport.EndpointContext;
import dev.locallambdas.transport.Outcome;
import dev.locallambdas.transport.TransportException;
import io.netty.buffer.ByteBuf;
import io.netty.channel.EventLoop;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The Runtime API's state machine with the test as the runtime (the JDK's HTTP client) and a
 * recording listener as the front door: no process, milliseconds per test.
 */
class EnvironmentTest {
  private EventLoops loops;
  private EventLoop loop;
  private Environment env;
  private Path runDir;
  private FunctionSpec spec;
  private final HttpClient runtime =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  @BeforeEach
  void listen() throws Exception {
    loops = EventLoops.start(1);
    loop = loops.next();
    runDir = Files.createTempDirectory("env-test");
    spec =
        FunctionSpec.builder("fn")
            .executable("true")
            .route("/fn/*")
            .protocol(Protocol.LAMBDA)
            .handler("index.handler")
            .build();
    env = Environment.listen(new EndpointContext(spec, 1, runDir, loops, loop));
    env.started(ProcessHandle.current()); // the test is the runtime
  }

  @AfterEach
  void close() throws Exception {
    env.close();
    loops.close();
    Files.deleteIfExists(runDir);
  }

  /** What the front door saw, as text. */
  static final class Recording implements CallListener {
    final List<String> events = new CopyOnWriteArrayList<>();

    @Override
    public void head(int status, Headers headers, long contentLength) {
      events.add("head " + status + " " + headers.get("content-type"));
    }

    @Override
    public void body(ByteBuf content) {
      events.add("body " + content.toString(StandardCharsets.UTF_8));
      content.release();
    }

    @Override
    public void end() {
      events.add("end");
    }

    @Override
    public void failed(TransportException cause) {
      events.add("failed " + cause.kind() + " " + cause.getMessage());
    }

    @Override
    public void bodyWritable(boolean writable) {}

    @Override
    public void released(Outcome outcome) {
      events.add("released " + outcome);
    }
  }

  private Call open(Recording listener) throws Exception {
    Request request =
        new Request(
            "GET",
            "/fn/x",
            "a=1",
            Headers.builder().add("host", "localhost").build(),
            0,
            "10.0.0.1");
    return loop.submit(() -> env.open(request, 5_000, loop, listener)).get();
  }

  private URI uri(String path) {
    return URI.create("http://127.0.0.1:" + env.port() + "/2018-06-01/runtime/" + path);
  }

  private CompletableFuture<HttpResponse<String>> next() {
    return runtime.sendAsync(
        HttpRequest.newBuilder(uri("invocation/next")).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private HttpResponse<String> post(String path, String body) throws Exception {
    return runtime.send(
        HttpRequest.newBuilder(uri(path)).POST(HttpRequest.BodyPublishers.ofString(body)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void theEnvironmentSetsTheVariablesAwsSets() {
    assertThat(env.environment())
        .containsEntry("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:" + env.port())
        .containsEntry("_HANDLER", "index.handler")
        .containsEntry("AWS_LAMBDA_FUNCTION_NAME", "fn")
        .containsEntry("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .containsEntry("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .containsEntry("TZ", ":UTC")
        .containsKeys("AWS_REGION", "LAMBDA_TASK_ROOT", "AWS_LAMBDA_LOG_STREAM_NAME");
  }

  @Test
  void aPollIsAnsweredWhenAnInvocationArrivesAndTheResponseReachesTheClient() throws Exception {
    CompletableFuture<HttpResponse<String>> poll = next();
    env.awaitReady(Duration.ofSeconds(5), ProcessHandle.current());
    assertThat(poll).isNotDone();
    Recording listener = new Recording();
    open(listener);
    HttpResponse<String> event = poll.get();
    assertThat(event.statusCode()).isEqualTo(200);
    String id = event.headers().firstValue("lambda-runtime-aws-request-id").orElseThrow();
    assertThat(event.headers().firstValue("lambda-runtime-deadline-ms")).isPresent();
    assertThat(event.headers().firstValue("lambda-runtime-invoked-function-arn"))
        .hasValue(
            "arn:aws:lambda:" + Aws.of(env.function()).region() + ":000000000000:function:fn");
    assertThat(event.body())
        .contains("\"rawPath\":\"/fn/x\"")
        .contains("\"sourceIp\":\"10.0.0.1\"");

    HttpResponse<String> accepted = post("invocation/" + id + "/response", "{\"ok\":true}");
    assertThat(accepted.statusCode()).isEqualTo(202);
    await()
        .untilAsserted(
            () ->
                assertThat(listener.events)
                    .containsExactly(
                        "head 200 application/json", "body {\"ok\":true}", "end", "released OK"));

    assertThat(post("invocation/" + id + "/response", "{}").statusCode()).isEqualTo(403);
    HttpResponse<String> unknown = post("invocation/nobody/response", "{}");
    assertThat(unknown.statusCode()).isEqualTo(400);
    assertThat(unknown.body()).contains("InvalidRequestID");
  }

  @Test
  void anInvocationWaitsForThePollThatComesLater() throws Exception {
    Recording listener = new Recording();
    open(listener);
    HttpResponse<String> event = next().get();
    String id = event.headers().firstValue("lambda-runtime-aws-request-id").orElseThrow();
    assertThat(
            post("invocation/" + id + "/error", "{\"errorType\":\"E\",\"errorMessage\":\"m\"}")
                .statusCode())
        .isEqualTo(202);
    await()
        .untilAsserted(
            () ->
                assertThat(listener.events)
                    .containsExactly("failed HANDLER_ERROR E: m", "released FAILED"));
  }

  @Test
  void anInitErrorFailsTheStartWithTheRuntimesWords() throws Exception {
    HttpResponse<String> r =
        post("init/error", "{\"errorType\":\"Runtime.ImportModuleError\",\"errorMessage\":\"no\"}");
    assertThat(r.statusCode()).isEqualTo(202);
    assertThatThrownBy(() -> env.awaitReady(Duration.ofSeconds(5), ProcessHandle.current()))
        .isInstanceOf(TransportException.class)
        .hasMessageContaining("init error: Runtime.ImportModuleError: no");
  }

  @Test
  void aTimedOutInvocationIsReleasedAsHungAndItsLateAnswerRefused() throws Exception {
    Recording listener = new Recording();
    Call call = open(listener);
    HttpResponse<String> event = next().get();
    String id = event.headers().firstValue("lambda-runtime-aws-request-id").orElseThrow();
    loop.submit(() -> call.cancel(Call.Cancel.TIMEOUT)).get();
    await().untilAsserted(() -> assertThat(listener.events).containsExactly("released HUNG"));
    assertThat(post("invocation/" + id + "/response", "{}").statusCode()).isEqualTo(403);
  }

  @Test
  void aClientThatLeftIsReleasedWhenTheRuntimeAnswers() throws Exception {
    Recording listener = new Recording();
    Call call = open(listener);
    HttpResponse<String> event = next().get();
    String id = event.headers().firstValue("lambda-runtime-aws-request-id").orElseThrow();
    loop.submit(() -> call.cancel(Call.Cancel.CLIENT_GONE)).get();
    assertThat(listener.events).isEmpty();
    assertThat(post("invocation/" + id + "/response", "{}").statusCode()).isEqualTo(202);
    await().untilAsserted(() -> assertThat(listener.events).containsExactly("released OK"));
  }

  @Test
  void closingFailsWhatIsRunningAsBroken() throws Exception {
    Recording listener = new Recording();
    open(listener);
    next().get();
    env.close();
    await()
        .untilAsserted(
            () -> assertThat(listener.events).hasSize(2).last().isEqualTo("released BROKEN"));
    assertThat(listener.events.getFirst()).startsWith("failed CHILD_FAILED");
  }

  @Test
  void anUnknownPathGets404() throws Exception {
    assertThat(post("invocation/x/nothing", "").statusCode()).isEqualTo(404);
  }

  @Test
  void aConnectionFromAProcessTheGatewayDidNotStartIsRefused() throws Exception {
    Process stranger = new ProcessBuilder("sleep", "30").start();
    Environment other = Environment.listen(new EndpointContext(spec, 2, runDir, loops, loop));
    try {
      other.started(stranger.toHandle());
      HttpResponse<String> r =
          runtime.send(
              HttpRequest.newBuilder(
                      URI.create(
                          "http://127.0.0.1:"
                              + other.port()
                              + "/2018-06-01/runtime/invocation/next"))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).isEqualTo(403);
      assertThat(r.body()).contains("AccessDeniedException");
    } finally {
      other.close();
      stranger.destroyForcibly();
      stranger.waitFor();
    }
  }

  @Test
  void concurrentPollsEachGetTheirOwnInvocation() throws Exception {
    // A runtime told AWS_LAMBDA_MAX_CONCURRENCY polls /next several times at once.
    CompletableFuture<HttpResponse<String>> first = next();
    CompletableFuture<HttpResponse<String>> second = next();
    env.awaitReady(Duration.ofSeconds(5), ProcessHandle.current());
    Recording a = new Recording();
    Recording b = new Recording();
    open(a);
    open(b);
    String idA = first.get().headers().firstValue("lambda-runtime-aws-request-id").orElseThrow();
    String idB = second.get().headers().firstValue("lambda-runtime-aws-request-id").orElseThrow();
    assertThat(idA).isNotEqualTo(idB);
    assertThat(post("invocation/" + idB + "/response", "\"b\"").statusCode()).isEqualTo(202);
    assertThat(post("invocation/" + idA + "/response", "\"a\"").statusCode()).isEqualTo(202);
    await()
        .untilAsserted(
            () -> {
              assertThat(a.events).contains("released OK");
              assertThat(b.events).contains("released OK");
            });
    assertThat(a.events.toString() + b.events).contains("body \"a\"").contains("body \"b\"");
  }
}
