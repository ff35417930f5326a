package dev.locallambdas.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.locallambdas.manifest.FunctionSpec;
import dev.locallambdas.manifest.LambdaEvent;
import dev.locallambdas.manifest.Protocol;
import dev.locallambdas.server.Gateway;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Arrays;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Lambda handlers (it/lambda) loaded into the gateway itself (protocol in-process): the code is the
 * test classes and the aws-lambda-java-core and -events jars, in a class loader of their own.
 */
@ExtendWith(NoLeaks.class)
class InProcessTest {
  private Gateway gateway;
  private HttpTestClient http;

  /** The class path entry of the test class path whose file name contains {@code artifact}. */
  private static String jar(String artifact) {
    return Arrays.stream(LambdaRuntimeTest.testClasspath().split(":"))
        .filter(e -> e.contains(artifact))
        .findFirst()
        .orElseThrow();
  }

  static FunctionSpec.Builder inProcess(String id, String handler) {
    return FunctionSpec.builder(id)
        .executable(TestManifests.repo().resolve("gateway/target/test-classes").toString())
        .arg(jar("aws-lambda-java-core"))
        .arg(jar("aws-lambda-java-events"))
        .protocol(Protocol.IN_PROCESS)
        .handler(handler)
        .route("/" + id + "/*")
        .workingDir(TestManifests.repo());
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
      gateway.close();
    }
  }

  @Test
  void aRequestHandlerOnTheEventsLibrarysEventTypeGetsTheEventBound() throws Exception {
    start(inProcess("pojo", "dev.locallambdas.it.lambda.EventPojoHandler").build());
    HttpResponse<String> r =
        java.net.http.HttpClient.newHttpClient()
            .send(
                java.net.http.HttpRequest.newBuilder(
                        java.net.URI.create(
                            "http://127.0.0.1:" + gateway.address().getPort() + "/pojo/p?q=1"))
                    .version(java.net.http.HttpClient.Version.HTTP_1_1)
                    .header("x-test", "yes")
                    .header("cookie", "a=1; b=2")
                    .header("content-type", "text/plain")
                    .POST(java.net.http.HttpRequest.BodyPublishers.ofString("hi"))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    assertThat(r.body())
        .isEqualTo("POST /pojo/p q=1 ua=yes cookies=[a=1, b=2] body=hi base64=false epoch>0=true");
  }

  @Test
  void aRequestHandlerOnItsOwnPojoGetsARawEventBound() throws Exception {
    start(
        inProcess("order", "dev.locallambdas.it.lambda.OrderHandler")
            .event(dev.locallambdas.manifest.LambdaEvent.RAW)
            .build());
    HttpResponse<byte[]> r =
        http.post(
            "/order/x",
            ("{\"customer\":\"ada\",\"quantity\":2,\"express\":true,\"unknown\":1,"
                    + "\"items\":[{\"sku\":\"a\",\"price\":1.5},{\"sku\":\"b\",\"price\":2}]}")
                .getBytes(java.nio.charset.StandardCharsets.UTF_8));
    String body = new String(r.body(), java.nio.charset.StandardCharsets.UTF_8);
    assertThat(r.statusCode()).as(body).isEqualTo(200);
    assertThat(body)
        .contains("\"customer\":\"ada\"")
        .contains("\"skus\":[\"a\",\"b\"]")
        .contains("\"total\":7.0")
        .contains("\"express\":true");
    // An event of the wrong shape is the handler's error, naming the property.
    HttpResponse<byte[]> bad =
        http.post(
            "/order/x",
            "{\"quantity\":\"many\"}".getBytes(java.nio.charset.StandardCharsets.UTF_8));
    assertThat(bad.statusCode()).isEqualTo(500);
    assertThat(new String(bad.body(), java.nio.charset.StandardCharsets.UTF_8))
        .contains("event.quantity should be a number");
  }

  @Test
  void aJavaSdkHandlerAnswersTheRequestItself() throws Exception {
    start(
        FunctionSpec.builder("sdk")
            .executable(TestManifests.repo().resolve("examples/java/target/classes").toString())
            .arg(TestManifests.repo().resolve("sdk-java/target/classes").toString())
            .protocol(Protocol.IN_PROCESS)
            .handler("example.Echo")
            .route("/sdk/*")
            .workingDir(TestManifests.repo())
            .build());
    HttpResponse<byte[]> r =
        http.post("/sdk/echo", "echo me".getBytes(java.nio.charset.StandardCharsets.UTF_8));
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(new String(r.body(), java.nio.charset.StandardCharsets.UTF_8)).isEqualTo("echo me");
  }

  @Test
  void aRequestHandlerOnMapsAnswersWithABareJsonBody() throws Exception {
    start(inProcess("bare", "dev.locallambdas.it.lambda.BareHandler").build());
    HttpResponse<String> r = http.get("/bare/x");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    assertThat(r.body()).contains("\"hello\":\"world\"").contains("\"rawPath\":\"/bare/x\"");
  }

  @Test
  void aResponseBeanIsMappedLikeAProxyResponse() throws Exception {
    start(inProcess("bean", "dev.locallambdas.it.lambda.BeanHandler").memoryMb(512).build());
    HttpResponse<String> r = http.get("/bean/y");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
    assertThat(r.headers().firstValue("x-function")).hasValue("bean");
    assertThat(r.headers().firstValue("set-cookie")).hasValue("k=v");
    assertThat(r.body()).isEqualTo("path /bean/y, 512 MB");
  }

  @Test
  void aStreamHandlerGetsTheRawBody() throws Exception {
    start(
        inProcess("echo", "dev.locallambdas.it.lambda.EchoStreamHandler")
            .event(LambdaEvent.RAW)
            .build());
    HttpResponse<String> r =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + gateway.address().getPort() + "/echo/"))
                    .POST(HttpRequest.BodyPublishers.ofString("[1,2,3]"))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).isEqualTo("[1,2,3]");
  }

  @Test
  void aHandlerThatThrowsGives500() throws Exception {
    start(inProcess("throws", "dev.locallambdas.it.lambda.ThrowingHandler").build());
    HttpResponse<String> r = http.get("/throws/z");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(500);
    assertThat(r.body()).contains("IllegalStateException").contains("gave up on /throws/z");
  }

  @Test
  void aConstructorThatThrowsFailsTheStartWithTheReason() throws Exception {
    start(inProcess("broken", "dev.locallambdas.it.lambda.BrokenConstructorHandler").build());
    HttpResponse<String> broken = http.get("/broken/x");
    assertThat(broken.statusCode()).isEqualTo(503);
    assertThat(broken.body()).contains("no configuration for the broken handler");
  }
}
