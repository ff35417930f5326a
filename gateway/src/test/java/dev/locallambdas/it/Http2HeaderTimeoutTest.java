package dev.locallambdas.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.locallambdas.server.Gateway;
import dev.locallambdas.tls.LocalCertificate;
import dev.locallambdas.tls.ServerTls;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import java.util.regex.Pattern;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The HTTP/2 header timeout through a real gateway and real sockets (docs/http2.md): a client that
 * starts a header block, a preface or its first SETTINGS frame and stalls is sent GOAWAY
 * ENHANCE_YOUR_CALM and disconnected long before the 60 s idle timeout (the raw client's reads give
 * up after 10 s), on each way into HTTP/2, while the gateway goes on serving others and keeps no
 * connection open. The timeout is set short the way a user would: {@code headerTimeout} of the
 * gateway builder, and {@code serve --header-timeout} on the command line.
 */
@ExtendWith(NoLeaks.class)
class Http2HeaderTimeoutTest {
  private static final byte[] PREFACE =
      "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
  private static final Pattern ONE_OPEN_CONNECTION =
      Pattern.compile("(?m)^local_lambdas_open_connections 1(\\.0)?$");

  @TempDir Path temp;
  private Gateway gateway;
  private String base;

  @AfterEach
  void stop() {
    if (gateway != null) {
      gateway.close();
    }
  }

  private void start(ServerTls tls) throws IOException {
    start(tls, Duration.ofSeconds(1));
  }

  private void start(ServerTls tls, Duration headerTimeout) throws IOException {
    gateway =
        Gateway.builder(TestManifests.manifest(TestManifests.cue("cue").build()))
            .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
            .environment(Map.of())
            .headerTimeout(headerTimeout)
            .tls(tls)
            .start();
    base = "http://127.0.0.1:" + gateway.address().getPort();
  }

  /** The GOAWAY that ends {@code c}: the header timeout's, then the connection closes. */
  private static void endsWithTheHeaderTimeout(RawH2 c) throws IOException {
    RawH2.Frame away = c.until(RawH2.GOAWAY);
    assertThat(away).as("a GOAWAY before the connection ends").isNotNull();
    assertThat(away.errorCode()).as(away.toString()).isEqualTo(RawH2.ENHANCE_YOUR_CALM);
    assertThat(away.debug()).contains("header timeout");
    assertThat(c.closedByServer()).isTrue();
  }

  private void stillServesAndHoldsNothing() throws Exception {
    assertThat(Http2Test.curl("--http2-prior-knowledge", base + "/cue/hello"))
        .startsWith("HTTP/2 200");
    await("only the scrape's own connection to be open")
        .atMost(Duration.ofSeconds(10))
        .until(
            () ->
                ONE_OPEN_CONNECTION
                    .matcher(Http2Test.curl(base + "/.local-lambdas/metrics"))
                    .find());
    assertThat(Http2Test.curl(base + "/.local-lambdas/metrics"))
        .contains(
            "local_lambdas_rejected_requests_total{code=\"408\",reason=\"header-timeout\"} 1");
  }

  @Test
  void aHeaderBlockStalledInContinuationsEndsWithGoAwayWhileOthersAreServed() throws Exception {
    start(null);
    try (RawH2 c = new RawH2(gateway.address()).preface()) {
      c.frame(RawH2.HEADERS, 0, 1, RawH2.get("/cue/hello"));
      c.frame(RawH2.CONTINUATION, 0, 1, RawH2.block("x-a", "b"));
      c.flush(); // and never END_HEADERS
      assertThat(Http2Test.curl("--http2-prior-knowledge", base + "/cue/hello"))
          .as("another client meanwhile")
          .startsWith("HTTP/2 200");
      endsWithTheHeaderTimeout(c);
    }
    stillServesAndHoldsNothing();
  }

  @Test
  void halfAFirstSettingsFrameAfterThePrefaceEndsWithGoAway() throws Exception {
    start(null);
    try (RawH2 c = new RawH2(gateway.address())) {
      c.raw(PREFACE);
      c.raw(new byte[] {0, 0, 6, RawH2.SETTINGS}); // and nothing more
      endsWithTheHeaderTimeout(c);
    }
    stillServesAndHoldsNothing();
  }

  @Test
  void anUpgradedConnectionWhosePrefaceStallsEndsWithGoAway() throws Exception {
    start(null);
    try (RawH2 c = new RawH2(gateway.address())) {
      c.raw(
          """
          GET /cue/hello HTTP/1.1\r
          Host: 127.0.0.1\r
          Connection: Upgrade, HTTP2-Settings\r
          Upgrade: h2c\r
          HTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r
          \r
          """
              .getBytes(StandardCharsets.US_ASCII));
      assertThat(c.http1Head()).startsWith("HTTP/1.1 101");
      c.raw(Arrays.copyOfRange(PREFACE, 0, 10)); // the preface that must follow, half of it
      endsWithTheHeaderTimeout(c);
    }
    stillServesAndHoldsNothing();
  }

  @Test
  void overTlsAHeaderBlockStalledEndsWithGoAway() throws Exception {
    Path dir = temp.resolve("tls");
    // The TLS handshake is bounded by the header timeout too, and a first one in a cold JVM on a
    // busy machine can take a second.
    start(LocalCertificate.ensure(dir), Duration.ofSeconds(5));
    SSLSocket s =
        (SSLSocket)
            Http2Test.trusting(dir.resolve("ca.pem"))
                .getSocketFactory()
                .createSocket("localhost", gateway.address().getPort());
    SSLParameters p = s.getSSLParameters();
    p.setApplicationProtocols(new String[] {"h2"});
    s.setSSLParameters(p);
    s.startHandshake();
    assertThat(s.getApplicationProtocol()).isEqualTo("h2");
    try (RawH2 c = new RawH2(s).preface()) {
      byte[] block = RawH2.get("/cue/hello");
      c.frame(RawH2.HEADERS, RawH2.END_HEADERS, 1, block); // a whole one: served
      c.flush();
      assertThat(c.until(RawH2.HEADERS, 1).type()).isEqualTo(RawH2.HEADERS);
      c.frame(RawH2.HEADERS, 0, 3, block); // then one without END_HEADERS
      c.flush();
      endsWithTheHeaderTimeout(c);
    }
  }

  @Test
  void serveHeaderTimeoutBoundsHttp2HeaderBlocks() throws Exception {
    Path manifest = temp.resolve("manifest.xml");
    Files.writeString(
        manifest,
        """
        <manifest version="1">
          <function>
            <id>other</id>
            <executable>python3</executable>
            <route>/other/*</route>
          </function>
        </manifest>
        """);
    MainProcess serve =
        MainProcess.start(
            temp,
            temp.resolve("logs"),
            "serve",
            manifest.toString(),
            "--bind",
            "127.0.0.1:0",
            "--header-timeout",
            "1s");
    try {
      InetSocketAddress address = serve.awaitServing();
      try (RawH2 c = new RawH2(address).preface()) {
        c.frame(RawH2.HEADERS, 0, 1, RawH2.get("/other/x"));
        c.flush();
        endsWithTheHeaderTimeout(c);
      }
    } finally {
      serve.stop();
    }
  }
}
