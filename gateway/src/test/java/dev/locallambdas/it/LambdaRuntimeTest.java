package dev.locallambdas.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.locallambdas.manifest.FunctionSpec;
import dev.locallambdas.manifest.LambdaEvent;
import dev.locallambdas.manifest.Protocol;
import dev.locallambdas.server.Gateway;
import java.io.File;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Real Lambda handlers (it/lambda) under the official AWS Lambda Java runtime interface client,
 * unmodified, behind a real gateway speaking the Runtime API: events in, responses out, a handler
 * that throws, a constructor that throws, a handler past its deadline.
 */
@ExtendWith(NoLeaks.class)
class LambdaRuntimeTest {
  private Gateway gateway;
  private HttpTestClient http;
  private final HttpClient client =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  /** A function running {@code handler} under the official Java runtime interface client. */
  static FunctionSpec.Builder javaLambda(String id, String handler) {
    return FunctionSpec.builder(id)
        .executable(TestManifests.java())
        .arg("-XX:TieredStopAtLevel=1")
        .arg("-XX:+UseSerialGC")
        .arg("--enable-native-access=ALL-UNNAMED") // the client loads its JNI library
        .arg("-cp")
        .arg(testClasspath())
        .arg("com.amazonaws.services.lambda.runtime.api.client.AWSLambda")
        .arg(handler)
        .protocol(Protocol.LAMBDA)
        .handler(handler)
        .memoryMb(256)
        .route("/" + id + "/*")
        .startupTimeout(Duration.ofSeconds(30))
        .workingDir(TestManifests.repo());
  }

  /** The test class path (surefire names it; the JVM's own may be a manifest-only jar). */
  static String testClasspath() {
    String cp = System.getProperty("surefire.test.class.path");
    if (cp == null || cp.isBlank()) {
      cp = System.getProperty("java.class.path");
    }
    return cp.replace(File.pathSeparatorChar, ':');
  }

  private void start(FunctionSpec... functions) throws Exception {
    gateway =
        Gateway.start(
            TestManifests.manifest(functions),
            new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    http = new HttpTestClient(gateway.address());
  }

  @AfterEach
  void stop() {
    if (gateway != null) {
      Path run = gateway.supervisor().runDirectory();
      gateway.close();
      assertThat(run).doesNotExist();
    }
  }

  private HttpResponse<String> post(String path, String body, String contentType) throws Exception {
    return client.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gateway.address().getPort() + path))
            .header("Content-Type", contentType)
            .header("Cookie", "a=1; b=2")
            .timeout(Duration.ofSeconds(60))
            .POST(HttpRequest.BodyPublishers.ofString(body))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void aRequestHandlerGetsAnHttpApiEventAndItsResponseIsMappedBack() throws Exception {
    start(javaLambda("greet", "dev.locallambdas.it.lambda.GreetHandler::handleRequest").build());
    HttpResponse<String> r = post("/greet/hi?name=ada&x=1", "hello body", "text/plain");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
    assertThat(r.headers().firstValue("x-handler")).hasValue("greet");
    assertThat(r.headers().firstValue("set-cookie")).hasValue("seen=1; Path=/");
    assertThat(r.body())
        .contains("\"method\":\"POST\"")
        .contains("\"rawPath\":\"/greet/hi\"")
        .contains("\"rawQueryString\":\"name=ada&x=1\"")
        .contains("\"name\":\"ada\"")
        .contains("\"cookies\":\"[a=1, b=2]\"")
        .contains("\"body\":\"hello body\"")
        .contains("\"base64\":false")
        .contains("\"function\":\"greet\"")
        .contains("\"memory\":256")
        .contains("\"arn\":\"arn:aws:lambda:");
    // The deadline is the request timeout (30 s by default), counted from the request's start.
    long remaining =
        Long.parseLong(r.body().replaceAll(".*\"remainingMs\":(\\d+).*", "$1").strip());
    assertThat(remaining).isBetween(1L, 30_000L);
    // Warm: the same environment answers again.
    assertThat(post("/greet/again", "", "text/plain").statusCode()).isEqualTo(201);
  }

  @Test
  void aBareJsonResultIsTheBodyOfA200() throws Exception {
    start(javaLambda("bare", "dev.locallambdas.it.lambda.BareHandler").build());
    HttpResponse<String> r = http.get("/bare/x");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    assertThat(r.headers().firstValue("content-type")).hasValue("application/json");
    assertThat(r.body()).contains("\"hello\":\"world\"").contains("\"rawPath\":\"/bare/x\"");
  }

  @Test
  void aStreamHandlerWithRawEventsEchoesTheBody() throws Exception {
    start(
        javaLambda("echo", "dev.locallambdas.it.lambda.EchoStreamHandler::handleRequest")
            .event(LambdaEvent.RAW)
            .build());
    HttpResponse<String> r = post("/echo", "{\"any\":\"payload\"}", "application/json");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    assertThat(r.body()).isEqualTo("{\"any\":\"payload\"}");
  }

  @Test
  void aRestApiHandlerGetsMultiValueParametersAndSendsMultiValueHeaders() throws Exception {
    start(
        javaLambda("rest", "dev.locallambdas.it.lambda.RestHandler")
            .event(LambdaEvent.REST_API)
            .build());
    HttpResponse<String> r = http.get("/rest/a/b?k=1&k=2");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
    assertThat(r.headers().allValues("x-multi")).containsExactly("a", "b");
    assertThat(r.body()).isEqualTo("GET /rest/a/b {k=[1, 2]} proxy=rest/a/b");
  }

  @Test
  void aHandlerThatThrowsGives500NamingTheErrorAndTheEnvironmentServesOn() throws Exception {
    start(javaLambda("throws", "dev.locallambdas.it.lambda.ThrowingHandler").build());
    HttpResponse<String> r = http.get("/throws/x");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(500);
    assertThat(r.headers().firstValue("content-type")).hasValue("application/problem+json");
    assertThat(r.body())
        .contains("IllegalStateException")
        .contains("the handler gave up on /throws/x");
    HttpResponse<String> again = http.get("/throws/y");
    assertThat(again.statusCode()).isEqualTo(500);
    assertThat(gateway.supervisor().pool("throws").recentStarts()).as("one environment").hasSize(1);
  }

  @Test
  void aConstructorThatThrowsIsAnInitErrorReportedToTheWaitingRequest() throws Exception {
    start(javaLambda("broken", "dev.locallambdas.it.lambda.BrokenConstructorHandler").build());
    HttpResponse<String> r = http.get("/broken/x");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(503);
    assertThat(r.body()).contains("init error").contains("no configuration for the broken handler");
  }

  @Test
  void aHandlerPastItsDeadlineIsStoppedAndAnswered504() throws Exception {
    start(
        javaLambda("slow", "dev.locallambdas.it.lambda.SlowHandler")
            .requestTimeout(Duration.ofSeconds(2))
            .build());
    HttpResponse<String> r = http.get("/slow/x");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(504);
  }

  @Test
  void aFunctionWrittenWithThePythonSdkIsALambdaCustomRuntime() throws Exception {
    start(
        TestManifests.pythonExample("hello", "hello.py", "/hello/*")
            .protocol(Protocol.LAMBDA)
            .env("GREETING", "hej")
            .build());
    HttpResponse<String> r = http.get("/hello/world?name=ada");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    assertThat(r.headers().firstValue("content-type")).hasValue("application/json");
    assertThat(r.body().replace("\": ", "\":"))
        .contains("\"greeting\":\"hej\"")
        .contains("\"method\":\"GET\"")
        .contains("\"path\":\"/hello/world\"")
        .contains("\"query\":\"name=ada\"");
  }
}
