package dev.locallambdas.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.locallambdas.server.Gateway;
import dev.locallambdas.tls.LocalCertificate;
import dev.locallambdas.tls.ServerTls;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * HTTP/2 through the real front door to a real pipe child, with real clients (curl, the JDK's
 * client) and a hostile one (raw frames; docs/http2.md).
 */
@ExtendWith(NoLeaks.class)
class Http2Test {
  @TempDir Path temp;
  private Gateway gateway;
  private String base;

  @AfterEach
  void stop() {
    if (gateway != null) {
      gateway.close();
    }
  }

  private void start(ServerTls tls) throws Exception {
    gateway =
        Gateway.builder(TestManifests.manifest(TestManifests.cue("cue").build()))
            .bind(new InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), 0))
            .environment(Map.of("ENABLE_CACHE", "true"))
            .tls(tls)
            .start();
    base = (tls != null ? "https" : "http") + "://127.0.0.1:" + gateway.address().getPort();
  }

  static String curl(String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("curl", "-s", "-S", "-i", "--max-time", "20"));
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    return out.replace("\r\n", "\n");
  }

  @Test
  void curlWithPriorKnowledgeIsServedByTheFunctionThenByTheCache() throws Exception {
    start(null);
    String first = curl("--http2-prior-knowledge", base + "/cue/hello");
    assertThat(first).startsWith("HTTP/2 200").contains("x-cache: MISS").contains("\"count\": 1");
    String second = curl("--http2-prior-knowledge", base + "/cue/hello");
    assertThat(second).startsWith("HTTP/2 200").contains("x-cache: HIT").contains("\"count\": 1");
    assertThat(curl("--http2-prior-knowledge", base + "/nowhere"))
        .startsWith("HTTP/2 404")
        .contains("application/problem+json");
    assertThat(curl("--http2-prior-knowledge", "--data-binary", "ping pong", base + "/cue/echo"))
        .startsWith("HTTP/2 200")
        .endsWith("ping pong");
    // HTTP/1.1 on the same port is untouched.
    assertThat(curl("--http1.1", base + "/cue/hello")).startsWith("HTTP/1.1 200");
  }

  @Test
  void curlUpgradesWithH2cAndTheFunctionSeesTheSameRequest() throws Exception {
    start(null);
    String out = curl("--http2", base + "/cue/headers");
    assertThat(out).startsWith("HTTP/1.1 101").contains("HTTP/2 200");
    String headers = out.substring(out.indexOf("HTTP/2 200"));
    assertThat(headers)
        .contains("[\"x-forwarded-proto\", \"http\"]")
        .contains("[\"x-forwarded-host\", \"127.0.0.1:")
        .doesNotContain("x-http2")
        .doesNotContain("http2-settings")
        .doesNotContain("\"upgrade\"");
  }

  @Test
  void theJdkClientStreamsBodiesBothWaysOverAnUpgradedConnection() throws Exception {
    start(null);
    HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_2).build();
    HttpResponse<String> hello =
        client.send(
            HttpRequest.newBuilder(URI.create(base + "/cue/hello")).build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(hello.version()).isEqualTo(HttpClient.Version.HTTP_2);
    byte[] body = new byte[3 * 1024 * 1024];
    for (int i = 0; i < body.length; i++) {
      body[i] = (byte) (i * 31);
    }
    HttpResponse<byte[]> echo =
        client.send(
            HttpRequest.newBuilder(URI.create(base + "/cue/echo"))
                .POST(HttpRequest.BodyPublishers.ofByteArray(body))
                .build(),
            HttpResponse.BodyHandlers.ofByteArray());
    assertThat(echo.version()).isEqualTo(HttpClient.Version.HTTP_2);
    assertThat(echo.statusCode()).isEqualTo(200);
    assertThat(echo.body()).isEqualTo(body);
    HttpResponse<InputStream> big =
        client.send(
            HttpRequest.newBuilder(URI.create(base + "/cue/big?mb=8")).build(),
            HttpResponse.BodyHandlers.ofInputStream());
    long n = 0;
    try (InputStream in = big.body()) {
      byte[] buf = new byte[65536];
      int r;
      while ((r = in.read(buf)) >= 0) {
        n += r;
      }
    }
    assertThat(n).isEqualTo(8L * 1024 * 1024);
  }

  @Test
  void httpsOffersH2AndHttp11ByAlpnWithALocalCertificate() throws Exception {
    Path dir = temp.resolve("tls");
    ServerTls tls = LocalCertificate.ensure(dir);
    assertThat(Files.getPosixFilePermissions(dir.resolve("localhost-key.pem")).toString())
        .isEqualTo("[OWNER_READ, OWNER_WRITE]");
    assertThat(dir.toFile().list())
        .containsExactlyInAnyOrder("ca.pem", "localhost-cert.pem", "localhost-key.pem");
    long created = Files.getLastModifiedTime(dir.resolve("localhost-cert.pem")).toMillis();
    LocalCertificate.ensure(dir); // reused, not made again
    assertThat(Files.getLastModifiedTime(dir.resolve("localhost-cert.pem")).toMillis())
        .isEqualTo(created);
    start(tls);
    SSLContext trusting = trusting(dir.resolve("ca.pem"));
    for (HttpClient.Version v : HttpClient.Version.values()) {
      HttpClient client = HttpClient.newBuilder().version(v).sslContext(trusting).build();
      HttpResponse<String> r =
          client.send(
              HttpRequest.newBuilder(
                      URI.create(
                          "https://localhost:" + gateway.address().getPort() + "/cue/headers"))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(r.version()).isEqualTo(v);
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(r.body()).contains("[\"x-forwarded-proto\", \"https\"]");
    }
    assertThat(curl("--cacert", dir.resolve("ca.pem").toString(), base + "/cue/hello"))
        .startsWith("HTTP/2 200");
    assertThat(curl("--cacert", dir.resolve("ca.pem").toString(), "--tls-max", "1.1", base + "/"))
        .doesNotContain("HTTP/");
  }

  static SSLContext trusting(Path caPem) throws Exception {
    KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
    ks.load(null, null);
    try (InputStream in = Files.newInputStream(caPem)) {
      ks.setCertificateEntry("ca", CertificateFactory.getInstance("X.509").generateCertificate(in));
    }
    TrustManagerFactory tmf =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(ks);
    SSLContext ctx = SSLContext.getInstance("TLS");
    ctx.init(null, tmf.getTrustManagers(), null);
    return ctx;
  }

  // ------------------------------------------------------------------ a hostile client

  private RawH2 raw() throws IOException {
    return new RawH2(gateway.address()).preface();
  }

  private void stillServes() throws Exception {
    assertThat(curl("--http2-prior-knowledge", base + "/cue/hello")).startsWith("HTTP/2 200");
  }

  @Test
  void aDrainingGatewayTellsHttp2ClientsWithGoAwayAndFinishesTheirStreams() throws Exception {
    start(null);
    try (RawH2 c = raw()) {
      c.frame(RawH2.HEADERS, RawH2.END_HEADERS | RawH2.END_STREAM, 1, RawH2.get("/cue/hello"));
      c.flush();
      assertThat(c.until(RawH2.HEADERS, 1)).isNotNull();
      // A stream still running when the drain starts (5 s: longer than the drain takes to begin
      // on a loaded machine): the GOAWAY must come before its answer, and the answer must come.
      c.frame(
          RawH2.HEADERS, RawH2.END_HEADERS | RawH2.END_STREAM, 3, RawH2.get("/cue/sleep?ms=5000"));
      c.flush();
      // Only a stream the gateway has taken counts as running (a later one is refused by the
      // GOAWAY's last stream id, as RFC 9113 says): wait until it is at the function.
      org.awaitility.Awaitility.await()
          .atMost(java.time.Duration.ofSeconds(30))
          .until(
              () ->
                  gateway.supervisor().pool("cue").instances().stream()
                          .mapToInt(dev.locallambdas.function.InstanceView::inFlight)
                          .sum()
                      == 1);
      Thread drain =
          Thread.ofPlatform().start(() -> gateway.shutdown(java.time.Duration.ofSeconds(20)));
      List<RawH2.Frame> seen = new ArrayList<>();
      RawH2.Frame away = null;
      RawH2.Frame answer = null;
      for (RawH2.Frame f = c.read(); f != null && answer == null; f = c.read()) {
        seen.add(f);
        if (f.type() == RawH2.GOAWAY && away == null) {
          away = f;
        } else if (f.type() == RawH2.HEADERS && f.stream() == 3) {
          answer = f;
        }
      }
      assertThat(away).as("a GOAWAY while draining, in %s", seen).isNotNull();
      assertThat(away.errorCode()).as(away.toString()).isZero();
      assertThat(answer).as("the running stream still answered, in %s", seen).isNotNull();
      assertThat(seen.indexOf(away))
          .as("GOAWAY before the answer")
          .isLessThan(seen.indexOf(answer));
      drain.join(30_000);
    }
  }

  @Test
  void rapidResetEndsTheConnectionWithEnhanceYourCalm() throws Exception {
    start(null);
    try (RawH2 c = raw()) {
      for (int i = 0; i < 1000; i++) {
        int stream = 1 + 2 * i;
        c.frame(
            RawH2.HEADERS, RawH2.END_HEADERS | RawH2.END_STREAM, stream, RawH2.get("/cue/hello"));
        c.frame(RawH2.RST_STREAM, 0, stream, new byte[] {0, 0, 0, 8}); // CANCEL
      }
      c.flush();
      RawH2.Frame away = c.until(RawH2.GOAWAY);
      assertThat(away).isNotNull();
      assertThat(away.errorCode()).as(away.toString()).isEqualTo(RawH2.ENHANCE_YOUR_CALM);
      assertThat(c.closedByServer()).isTrue();
    } catch (java.net.SocketException e) {
      // the server may close while the flood is still being written: also refused
    }
    stillServes();
  }

  @Test
  void aContinuationFloodEndsTheConnection() throws Exception {
    start(null);
    try (RawH2 c = raw()) {
      c.frame(RawH2.HEADERS, 0, 1, RawH2.get("/cue/hello"));
      for (int i = 0; i < 200; i++) {
        c.frame(RawH2.CONTINUATION, 0, 1, RawH2.block("x-a", "b"));
      }
      c.flush();
      RawH2.Frame away = c.until(RawH2.GOAWAY);
      assertThat(away).isNotNull();
      assertThat(away.errorCode()).as(away.toString()).isNotZero();
      assertThat(c.closedByServer()).isTrue();
    } catch (java.net.SocketException e) {
      // closed while writing: refused too
    }
    stillServes();
  }

  @Test
  void oversizedHeadersAreRefused() throws Exception {
    start(null);
    try (RawH2 c = raw()) {
      byte[] block =
          RawH2.get("/cue/hello", "x-big", "a".repeat(14_000), "x-big2", "b".repeat(14_000));
      byte[] first = java.util.Arrays.copyOfRange(block, 0, 16_000);
      byte[] rest = java.util.Arrays.copyOfRange(block, 16_000, block.length);
      c.frame(RawH2.HEADERS, RawH2.END_STREAM, 1, first);
      c.frame(RawH2.CONTINUATION, RawH2.END_HEADERS, 1, rest);
      c.flush();
      RawH2.Frame f = c.until(RawH2.RST_STREAM, 1);
      assertThat(f).isNotNull();
      assertThat(f.type()).isIn(RawH2.RST_STREAM, RawH2.GOAWAY);
      assertThat(f.errorCode()).as(f.toString()).isNotZero();
    }
    stillServes();
  }

  @Test
  void malformedRequestHeadersResetTheStreamWithProtocolError() throws Exception {
    start(null);
    String[][] cases = {
      {":method", "GET", ":scheme", "http", ":path", "/cue/hello", ":authority", "a", ":foo", "x"},
      {
        ":method",
        "GET",
        ":scheme",
        "http",
        ":path",
        "/cue/hello",
        ":authority",
        "a",
        "connection",
        "keep-alive"
      },
      {
        ":method",
        "GET",
        ":scheme",
        "http",
        ":path",
        "/cue/hello",
        ":authority",
        "a",
        "X-Upper",
        "1"
      },
      {":method", "GET", ":scheme", "http", ":authority", "a"},
      {":method", "GET", "x-a", "1", ":scheme", "http", ":path", "/cue/hello", ":authority", "a"},
      {":method", "GET", ":scheme", "http", ":path", "/cue/hello", ":authority", "a", "te", "gzip"},
    };
    for (String[] fields : cases) {
      try (RawH2 c = raw()) {
        c.frame(RawH2.HEADERS, RawH2.END_HEADERS | RawH2.END_STREAM, 1, RawH2.block(fields));
        c.flush();
        RawH2.Frame f = c.until(RawH2.RST_STREAM, 1);
        assertThat(f).as(String.join(" ", fields)).isNotNull();
        assertThat(f.errorCode()).as(String.join(" ", fields)).isEqualTo(RawH2.PROTOCOL_ERROR);
      }
    }
    stillServes();
  }

  @Test
  void aPingFloodFromAClientThatDoesNotReadEndsTheConnection() throws Exception {
    start(null);
    try (RawH2 c = raw()) {
      long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
      try {
        for (int i = 0; i < 500_000 && System.nanoTime() < deadline; i++) {
          c.frame(RawH2.PING, 0, 0, new byte[8]);
        }
        c.flush();
      } catch (java.net.SocketException e) {
        // closed by the server while flooding: what the test wants
      }
      assertThat(c.closedByServer()).isTrue();
    }
    stillServes();
  }
}
