package dev.locallambdas.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.locallambdas.manifest.Manifest;
import dev.locallambdas.manifest.ManifestReader;
import dev.locallambdas.server.Gateway;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The bundled demo, examples/manifest.xml, exactly as `./local-lambdas` with no argument serves it.
 */
@ExtendWith(NoLeaks.class)
class DemoManifestTest {
  private Gateway gateway;

  @AfterEach
  void stop() {
    if (gateway != null) {
      gateway.close();
    }
  }

  private static String compact(HttpResponse<String> r) {
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return r.body().replace("\": ", "\":");
  }

  @Test
  void servesEveryDemoFunction() throws Exception {
    Manifest manifest = ManifestReader.read(TestManifests.repo().resolve("examples/manifest.xml"));
    assertThat(ManifestReader.checkExecutables(manifest)).isEmpty();
    gateway = Gateway.start(manifest, new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    HttpTestClient http = new HttpTestClient(gateway.address());

    assertThat(compact(http.get("/python/hi?x=1")))
        .contains("\"greeting\":\"hello from Python\"")
        .contains("\"path\":\"/python/hi\"")
        .contains("\"query\":\"x=1\"");
    assertThat(compact(http.get("/node/hi?x=2")))
        .contains("\"greeting\":\"hello from Node\"")
        .contains("\"path\":\"/node/hi\"")
        .contains("\"query\":\"x=2\"");
    assertThat(compact(http.get("/java/hi?x=3")))
        .contains("\"greeting\":\"hello from Java\"")
        .contains("\"path\":\"/java/hi\"")
        .contains("\"query\":\"x=3\"")
        .contains("\"runtime\":\"java\"");
    assertThat(compact(http.get("/http/hi?x=4")))
        .contains("\"mode\":\"http\"")
        .contains("\"greeting\":\"hello from HTTP\"")
        .contains("\"path\":\"/http/hi\"")
        .contains("\"query\":\"x=4\"");

    byte[] body = new byte[256 * 1024];
    new Random(3).nextBytes(body);
    HttpResponse<byte[]> echoed = http.post("/echo", body);
    assertThat(echoed.statusCode()).isEqualTo(200);
    assertThat(echoed.body()).isEqualTo(body);
    HttpResponse<byte[]> httpEcho =
        http.post("/http/echo", "through http".getBytes(StandardCharsets.UTF_8));
    assertThat(new String(httpEcho.body(), StandardCharsets.UTF_8)).isEqualTo("through http");

    // Every answer has a Date (RFC 9110 6.6.1) and the request's id, whatever the protocol.
    for (String path : new String[] {"/python/d", "/node/d", "/java/d", "/http/d", "/nothing"}) {
      HttpResponse<String> r = http.get(path);
      assertThat(r.headers().firstValue("date")).as(path).isPresent();
      assertThat(r.headers().firstValue("x-request-id")).as(path).isPresent();
    }

    // /echo is an exact route: /echo/more belongs to no function.
    assertThat(http.get("/echo/more").statusCode()).isEqualTo(404);
  }
}
