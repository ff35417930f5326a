package dev.locallambdas.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.locallambdas.manifest.FunctionSpec;
import dev.locallambdas.manifest.Protocol;
import dev.locallambdas.server.Gateway;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Handlers (children/lambda-node/index.mjs) under the official Node.js runtime interface client,
 * {@code aws-lambda-ric} 3.3.0 from npm, unmodified, behind a real gateway: a buffered handler and
 * streaming handlers ({@code awslambda.streamifyResponse} with {@code HttpResponseStream}'s
 * prelude), including ones that fail before and after their first byte. Skipped when the client is
 * not installed: {@code cd gateway/src/test/node-ric && npm ci} (a native build; .ci/run does it).
 */
@ExtendWith(NoLeaks.class)
class LambdaNodeRuntimeTest {
  private static final Path RIC =
      TestManifests.repo()
          .resolve("gateway/src/test/node-ric/node_modules/aws-lambda-ric/bin/index.mjs");
  private static final Path NATIVE =
      TestManifests.repo()
          .resolve("gateway/src/test/node-ric/node_modules/aws-lambda-ric/dist/rapid-client.node");

  private Gateway gateway;
  private final HttpClient client =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  @BeforeEach
  void needsTheClient() {
    Assumptions.assumeTrue(
        Files.isRegularFile(RIC) && Files.isRegularFile(NATIVE),
        "aws-lambda-ric is not installed (cd gateway/src/test/node-ric && npm ci; it builds"
            + " aws-lambda-cpp and curl, needing cmake, autoconf, automake, libtool and g++)");
  }

  @AfterEach
  void stop() {
    if (gateway != null) {
      gateway.close();
    }
  }

  private static FunctionSpec nodeLambda(String id, String handler) {
    return FunctionSpec.builder(id)
        .executable("node")
        .arg(RIC.toString())
        .arg("index." + handler)
        .protocol(Protocol.LAMBDA)
        .handler("index." + handler)
        .route("/" + id + "/*")
        .startupTimeout(Duration.ofSeconds(30))
        .workingDir(TestManifests.child("lambda-node"))
        .build();
  }

  private void start(FunctionSpec... functions) throws Exception {
    gateway =
        Gateway.start(
            TestManifests.manifest(functions),
            new InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), 0));
  }

  private HttpRequest.Builder request(String path) {
    return HttpRequest.newBuilder(
            URI.create("http://127.0.0.1:" + gateway.address().getPort() + path))
        .timeout(Duration.ofSeconds(60));
  }

  @Test
  void aBufferedHandlerAnswersThroughTheGateway() throws Exception {
    start(nodeLambda("buffered", "buffered"));
    HttpResponse<String> r =
        client.send(
            request("/buffered/hi").POST(HttpRequest.BodyPublishers.ofString("hello")).build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
    assertThat(r.headers().firstValue("x-runtime")).hasValue("node");
    assertThat(r.body())
        .contains("\"rawPath\":\"/buffered/hi\"")
        .contains("\"method\":\"POST\"")
        .contains("\"body\":\"hello\"")
        .contains("\"function\":\"buffered\"");
  }

  @Test
  void aStreamingHandlersPreludeIsTheHeadAndItsPiecesTheBody() throws Exception {
    start(nodeLambda("stream", "streaming"));
    HttpResponse<String> r =
        client.send(request("/stream/x?pieces=3").build(), HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(207);
    assertThat(r.headers().firstValue("content-type")).hasValue("text/plain");
    assertThat(r.headers().firstValue("x-streamed")).hasValue("yes");
    assertThat(r.headers().firstValue("set-cookie")).hasValue("flavour=oat; Path=/");
    assertThat(r.headers().firstValue("content-length")).isEmpty(); // chunked: sent as it came
    assertThat(r.body()).isEqualTo("piece 0\npiece 1\npiece 2\n");
  }

  @Test
  void aStreamedResponseIsNotBoundByTheSixMegabyteLimit() throws Exception {
    start(nodeLambda("big", "streaming"));
    HttpResponse<InputStream> r =
        client.send(
            request("/big/x?pieces=80&size=100000").build(),
            HttpResponse.BodyHandlers.ofInputStream());
    assertThat(r.statusCode()).isEqualTo(207);
    long n;
    try (InputStream in = r.body()) {
      n = in.transferTo(java.io.OutputStream.nullOutputStream());
    }
    assertThat(n).isEqualTo(8_000_000L);
  }

  @Test
  void aHandlerFailingMidStreamCutsTheResponseOff() throws Exception {
    start(nodeLambda("fails", "streamingFails"));
    HttpResponse<InputStream> r =
        client.send(request("/fails/x").build(), HttpResponse.BodyHandlers.ofInputStream());
    assertThat(r.statusCode()).isEqualTo(200);
    assertThatThrownBy(
            () -> {
              try (InputStream in = r.body()) {
                in.readAllBytes();
              }
            })
        .isInstanceOf(IOException.class);
    // The environment stays in service.
    HttpResponse<InputStream> again =
        client.send(request("/fails/y").build(), HttpResponse.BodyHandlers.ofInputStream());
    assertThat(again.statusCode()).isEqualTo(200);
    again.body().close();
  }

  @Test
  void aHandlerFailingBeforeItsFirstByteGetsA500() throws Exception {
    start(nodeLambda("early", "streamingFailsEarly"));
    HttpResponse<String> r =
        client.send(request("/early/x").build(), HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(500);
    assertThat(r.body()).contains("failed before the first byte");
  }
}
