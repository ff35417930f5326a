package dev.locallambdas.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpHeaders;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Base64;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * A manifest in the original local_lambdas format with children written for the original
 * (examples/legacy), served unchanged by the gateway as a real process started in the repository
 * root, as the original was: its relative paths resolve against the working directory.
 */
@ExtendWith(NoLeaks.class)
class LegacyFormatTest {
  private static final String MANIFEST = "examples/legacy/manifest.xml";
  private static final Pattern BODY = Pattern.compile("\"body\":\"([A-Za-z0-9+/=]*)\"");

  @TempDir Path temp;
  private MainProcess gateway;
  private HttpTestClient http;

  private void serve() throws Exception {
    gateway =
        MainProcess.start(TestManifests.repo(), temp, "serve", MANIFEST, "--bind", "127.0.0.1:0");
    http = new HttpTestClient(gateway.awaitServing());
  }

  @AfterEach
  void stop() throws InterruptedException {
    if (gateway != null) {
      gateway.stop();
      assertThat(gateway.stderr()).contains("stopped");
    }
  }

  /**
   * The service's echo ({"service", "method", "uri", "query", "headers", "body"}) without blanks
   * after colons.
   */
  private static String echo(HttpResponse<String> r, String service) {
    return echo(r.statusCode(), r.headers(), r.body(), service);
  }

  private static String echo(int status, HttpHeaders headers, String body, String service) {
    assertThat(status).as(body).isEqualTo(200);
    assertThat(headers.firstValue("x-service")).hasValue(service);
    assertThat(headers.firstValue("content-type")).hasValue("application/json");
    String compact = body.replace("\": ", "\":");
    assertThat(compact).contains("\"service\":\"" + service + "\"");
    return compact;
  }

  private static byte[] echoedBody(String compact) {
    Matcher m = BODY.matcher(compact);
    assertThat(m.find()).as(compact).isTrue();
    return Base64.getDecoder().decode(m.group(1));
  }

  private static byte[] everyByteValue() {
    byte[] body = new byte[3 * 256];
    for (int i = 0; i < body.length; i++) {
      body[i] = (byte) i;
    }
    return body;
  }

  private void checkService(String prefix, String service) throws Exception {
    String get = echo(http.get(prefix + "/test"), service);
    assertThat(get)
        .contains("\"method\":\"GET\"")
        .contains("\"uri\":\"" + prefix + "/test\"")
        .contains("\"query\":null");
    assertThat(echoedBody(get)).isEmpty();

    String withQuery = echo(http.get(prefix + "/test?a=1&b=two"), service);
    assertThat(withQuery)
        .contains("\"uri\":\"" + prefix + "/test\"")
        .contains("\"query\":\"a=1&b=two\"");

    byte[] binary = everyByteValue();
    HttpResponse<byte[]> post = http.post(prefix + "/test?upload=1", binary);
    // The service's JSON is ASCII, whatever bytes its base64 carries.
    String posted =
        echo(
            post.statusCode(),
            post.headers(),
            new String(post.body(), StandardCharsets.US_ASCII),
            service);
    assertThat(posted).contains("\"method\":\"POST\"").contains("\"query\":\"upload=1\"");
    assertThat(echoedBody(posted)).isEqualTo(binary);

    // The original's rules for broken answers: bad base64 is an empty body, bad JSON a 502.
    HttpResponse<String> badBase64 = http.get(prefix + "/broken/base64");
    assertThat(badBase64.statusCode()).isEqualTo(200);
    assertThat(badBase64.body()).isEmpty();
    assertThat(http.get(prefix + "/broken/json").statusCode()).isEqualTo(502);
    assertThat(http.get(prefix + "/test").statusCode()).isEqualTo(200);
  }

  @Test
  void pipeServiceOfTheOriginalAnswersThroughTheGateway() throws Exception {
    serve();
    checkService("/pipe", "pipe_only_service");
  }

  @Test
  void httpServiceOfTheOriginalAnswersThroughTheGateway() throws Exception {
    serve();
    checkService("/http", "http_only_service");
  }

  @Test
  void validateAcceptsTheOriginalFormatAndSaysSo() throws Exception {
    MainProcess validate = MainProcess.run(TestManifests.repo(), temp, "validate", MANIFEST);
    assertThat(validate.exitCode()).as(validate.stderr()).isZero();
    assertThat(validate.stdout())
        .contains(MANIFEST + ": valid, 2 function(s)")
        .contains("original local_lambdas format")
        .contains("legacy-pipe: /pipe/*")
        .contains("[legacy-pipe]")
        .contains("[legacy-http]");
  }
}
