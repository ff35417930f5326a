package dev.locallambdas.frontdoor;

import static dev.locallambdas.frontdoor.FrontDoorConformanceTest.assertProblemJson;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.locallambdas.it.NoLeaks;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Connection-level behaviour of the front door, over raw sockets to a real gateway. */
@ExtendWith(NoLeaks.class)
class FrontDoorBehaviourTest {
  private static final String H = "Host: gw\r\n";
  private static final Pattern HEADER_PAIR = Pattern.compile("\\[\"([^\"]*)\", \"([^\"]*)\"\\]");

  private final Logger gatewayLog = Logger.getLogger("dev.locallambdas");
  private final List<LogRecord> warnings = new ArrayList<>();
  private final Handler capture =
      new Handler() {
        @Override
        public void publish(LogRecord r) {
          if (r.getLevel().intValue() >= Level.WARNING.intValue()) {
            synchronized (warnings) {
              warnings.add(r);
            }
          }
        }

        @Override
        public void flush() {}

        @Override
        public void close() {}
      };
  private TestGateway gateway;

  @BeforeEach
  void start() throws Exception {
    gatewayLog.addHandler(capture);
    gateway = TestGateway.start();
  }

  @AfterEach
  void stop() {
    gateway.close();
    gatewayLog.removeHandler(capture);
  }

  private List<String> warnings() {
    synchronized (warnings) {
      return warnings.stream().map(r -> r.getLoggerName() + ": " + r.getMessage()).toList();
    }
  }

  @Test
  void expectContinueGetsAnInterimResponseBeforeTheBodyIsSent() throws Exception {
    try (RawConnection c = gateway.connect()) {
      c.send(
          "POST /cue/sha256 HTTP/1.1\r\n"
              + H
              + "Content-Length: 5\r\nExpect: 100-continue\r\n\r\n");
      RawResponse interim = c.read();
      assertThat(interim.status()).isEqualTo(100);
      RawResponse r = c.send("hello").read();
      assertThat(r.status()).isEqualTo(200);
      assertThat(r.text()).contains(sha256("hello"));
    }
  }

  @Test
  void declaredBodyOverTheLimitIsRefusedAndTheUnreadBodyDoesNotResetTheConnection()
      throws Exception {
    try (RawConnection c = gateway.connect()) {
      // Head and body in one go, before reading, as a client that does not use 100-continue
      // would: the gateway refuses at the head, then reads and drops the body so that the client
      // can read the answer (an immediate close would make the kernel send a reset instead).
      byte[] head =
          ("POST /small/sha256 HTTP/1.1\r\n" + H + "Content-Length: 1048576\r\n\r\n")
              .getBytes(StandardCharsets.US_ASCII);
      c.send(head).send(new byte[1024 * 1024]);
      RawResponse r = c.read();
      assertThat(r.status()).isEqualTo(413);
      assertProblemJson(r);
      assertThat(r.text()).contains("\"function\":\"small\"").contains("1024");
      assertThat(c.cleanEndOfStream()).as("a FIN after the response, not a reset").isTrue();
    }
    assertThat(gateway.neverStarted("small")).isTrue();
  }

  @Test
  void chunkedBodyGrowingPastTheLimitGets413AndTheConnectionCloses() throws Exception {
    try (RawConnection c = gateway.connect()) {
      c.send("POST /small/sha256 HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked\r\n\r\n");
      String chunk = "200\r\n" + "x".repeat(512) + "\r\n";
      c.send(chunk + chunk + chunk + "0\r\n\r\n");
      RawResponse r = c.read();
      assertThat(r.status()).as("%s", r).isEqualTo(413);
      assertProblemJson(r);
      assertThat(r.header("connection")).isEqualToIgnoringCase("close");
      assertThat(c.closedByServer()).isTrue();
    }
  }

  @Test
  void pipelinedRequestsAreAnsweredInOrder() throws Exception {
    try (RawConnection c = gateway.connect()) {
      StringBuilder three = new StringBuilder();
      for (int ms : new int[] {300, 150, 1}) {
        three
            .append("GET /cue/sleep?ms=")
            .append(ms)
            .append(" HTTP/1.1\r\n")
            .append(H)
            .append("\r\n");
      }
      c.send(three.toString());
      for (int ms : new int[] {300, 150, 1}) {
        RawResponse r = c.read();
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.text()).contains("\"query\": \"ms=" + ms + "\"");
      }
      assertThat(c.nothingBuffered()).isTrue();
    }
  }

  @Test
  void requestsPipelinedBehindARefusedOneAreNeverServed() throws Exception {
    try (RawConnection c = gateway.connect()) {
      c.send(
          "GET /guard/a HTTP/1.1\r\n"
              + H
              + "Expect: nothing\r\n\r\n"
              + "GET /guard/b HTTP/1.1\r\n"
              + H
              + "\r\n"
              + "POST /guard/c HTTP/1.1\r\n"
              + H
              + "Content-Length: 3, 4\r\n\r\nabc");
      RawResponse r = c.read();
      assertThat(r.status()).isEqualTo(417);
      assertThat(c.cleanEndOfStream()).isTrue();
    }
    assertThat(gateway.neverStarted("guard")).isTrue();
  }

  @Test
  void keepAliveConnectionServesSequentialRequests() throws Exception {
    try (RawConnection c = gateway.connect()) {
      RawResponse first = c.send("GET /cue/hello HTTP/1.1\r\n" + H + "\r\n").read();
      RawResponse second = c.send("GET /cue/hello HTTP/1.1\r\n" + H + "\r\n").read();
      assertThat(first.text()).contains("\"count\": 1");
      assertThat(second.text()).contains("\"count\": 2");
      assertThat(first.header("connection")).isNull();
      assertThat(second.header("connection")).isNull();
    }
  }

  @Test
  void connectionCloseFromTheClientClosesAfterTheResponse() throws Exception {
    try (RawConnection c = gateway.connect()) {
      RawResponse r =
          c.send("GET /cue/hello HTTP/1.1\r\n" + H + "Connection: close\r\n\r\n").read();
      assertThat(r.status()).isEqualTo(200);
      assertThat(r.header("connection")).isEqualToIgnoringCase("close");
      assertThat(c.closedByServer()).isTrue();
    }
  }

  @Test
  void http10ClosesByDefaultAndStaysOpenWithKeepAlive() throws Exception {
    try (RawConnection c = gateway.connect()) {
      RawResponse r = c.send("GET /cue/hello HTTP/1.0\r\n\r\n").read();
      assertThat(r.status()).isEqualTo(200);
      assertThat(c.closedByServer()).isTrue();
    }
    try (RawConnection c = gateway.connect()) {
      RawResponse first =
          c.send("GET /cue/hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").read();
      assertThat(first.status()).isEqualTo(200);
      assertThat(first.header("connection")).isEqualToIgnoringCase("keep-alive");
      RawResponse second =
          c.send("GET /cue/hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").read();
      assertThat(second.status()).isEqualTo(200);
      assertThat(second.text()).contains("\"count\": 3");
    }
  }

  @Test
  void headGetsTheHeadersWithoutABody() throws Exception {
    try (RawConnection c = gateway.connect()) {
      RawResponse head = c.send("HEAD /cue/hello HTTP/1.1\r\n" + H + "\r\n").read(true);
      assertThat(head.status()).isEqualTo(200);
      assertThat(head.header("content-type")).isEqualTo("application/json");
      RawResponse missing = c.send("HEAD /nowhere HTTP/1.1\r\n" + H + "\r\n").read(true);
      assertThat(missing.status()).isEqualTo(404);
      assertThat(missing.header("content-length")).isNotNull();
      // Had either response carried body bytes, they would be read here as a status line.
      RawResponse get = c.send("GET /cue/hello HTTP/1.1\r\n" + H + "\r\n").read();
      assertThat(get.status()).isEqualTo(200);
      assertThat(get.text()).contains("\"count\": 2");
    }
  }

  @Test
  void hopByHopFieldsAreRemovedAndForwardedFieldsAreTheGatewaysOwn() throws Exception {
    try (RawConnection c = gateway.connect()) {
      RawResponse r =
          c.send(
                  "GET /cue/headers HTTP/1.1\r\n"
                      + H
                      + "Connection: close, X-Forwarded-For, X-Custom\r\n"
                      + "X-Custom: 1\r\n"
                      + "X-Forwarded-For: 6.6.6.6\r\n"
                      + "X-Forwarded-Proto: https\r\n"
                      + "X-Forwarded-Prefix: /evil\r\n"
                      + "X-Real-IP: 6.6.6.6\r\n"
                      + "Keep-Alive: x\r\n"
                      + "TE: trailers\r\n"
                      + "Upgrade: h2c\r\n"
                      + "X-Kept: yes\r\n\r\n")
              .read();
      assertThat(r.status()).isEqualTo(200);
      List<String> seen = headerPairs(r.text());
      assertThat(seen)
          .contains(
              "host: gw",
              "x-kept: yes",
              "x-forwarded-for: 127.0.0.1",
              "x-forwarded-proto: http",
              "x-forwarded-host: gw")
          .noneMatch(
              h ->
                  h.startsWith("x-custom:")
                      || h.startsWith("keep-alive:")
                      || h.startsWith("te:")
                      || h.startsWith("upgrade:")
                      || h.startsWith("connection:")
                      || h.startsWith("x-real-ip:"))
          .filteredOn(h -> h.startsWith("x-forwarded-"))
          .hasSize(3);
    }
  }

  @Test
  void aTrustedProxysForwardedFieldsAreKeptAndExtendedWithItsHop() throws Exception {
    try (TestGateway trusting = TestGateway.start(TrustedProxies.parse(List.of("127.0.0.0/8")));
        RawConnection c = trusting.connect()) {
      RawResponse r =
          c.send(
                  "GET /cue/headers HTTP/1.1\r\n"
                      + H
                      + "X-Forwarded-For: 203.0.113.9, 10.0.0.2\r\n"
                      + "X-Forwarded-For: 10.0.0.3\r\n"
                      + "X-Forwarded-Proto: https\r\n"
                      + "X-Forwarded-Host: shop.example\r\n"
                      + "X-Forwarded-Prefix: /shop\r\n"
                      + "Forwarded: for=203.0.113.9;proto=https\r\n"
                      + "X-Real-IP: 203.0.113.9\r\n\r\n")
              .read();
      assertThat(r.status()).isEqualTo(200);
      List<String> seen = headerPairs(r.text());
      assertThat(seen)
          .contains(
              "x-forwarded-for: 203.0.113.9, 10.0.0.2, 10.0.0.3, 127.0.0.1",
              "x-forwarded-proto: https",
              "x-forwarded-host: shop.example",
              "x-forwarded-prefix: /shop",
              "x-real-ip: 203.0.113.9");
      assertThat(seen).filteredOn(h -> h.startsWith("x-forwarded-proto:")).hasSize(1);
      assertThat(r.text()).contains("for=203.0.113.9;proto=https, for=127.0.0.1;proto=http");
    }
  }

  @Test
  void anUntrustedPeersForwardedFieldsAreReplacedEvenWhenSomeProxyIsTrusted() throws Exception {
    try (TestGateway trusting = TestGateway.start(TrustedProxies.parse(List.of("10.0.0.0/8")));
        RawConnection c = trusting.connect()) {
      RawResponse r =
          c.send(
                  "GET /cue/headers HTTP/1.1\r\n"
                      + H
                      + "X-Forwarded-For: 6.6.6.6\r\n"
                      + "X-Forwarded-Proto: https\r\n"
                      + "Forwarded: for=6.6.6.6\r\n\r\n")
              .read();
      assertThat(r.status()).isEqualTo(200);
      List<String> seen = headerPairs(r.text());
      assertThat(seen)
          .contains("x-forwarded-for: 127.0.0.1", "x-forwarded-proto: http")
          .noneMatch(h -> h.startsWith("forwarded:"));
      assertThat(r.text()).doesNotContain("6.6.6.6");
    }
  }

  @Test
  void absoluteFormTargetIsRoutedByItsPathAndItsAuthorityIsTheHost() throws Exception {
    try (RawConnection c = gateway.connect()) {
      RawResponse r =
          c.send("GET HTTP://example.test:8080/cue/headers?x=1 HTTP/1.1\r\n" + H + "\r\n").read();
      assertThat(r.status()).isEqualTo(200);
      assertThat(headerPairs(r.text())).contains("x-forwarded-host: example.test:8080");
      RawResponse hello =
          c.send("GET http://example.test/cue/a/../hello?q HTTP/1.1\r\n" + H + "\r\n").read();
      assertThat(hello.text()).contains("\"path\": \"/cue/hello\"").contains("\"query\": \"q\"");
    }
  }

  @Test
  void encodedSlashStaysInsideItsSegment() throws Exception {
    try (RawConnection c = gateway.connect()) {
      RawResponse r = c.send("GET /cue/..%2Fguard/hello HTTP/1.1\r\n" + H + "\r\n").read();
      assertThat(r.status()).isEqualTo(200);
      assertThat(r.text()).contains("\"path\": \"/cue/..%2Fguard/hello\"");
    }
    assertThat(gateway.neverStarted("guard")).isTrue();
  }

  @Test
  void clientThatDisconnectsWhileTheFunctionWorksFreesTheInstance() throws Exception {
    try (RawConnection warm = gateway.connect()) {
      assertThat(warm.send("GET /cue/hello HTTP/1.1\r\n" + H + "\r\n").read().status())
          .isEqualTo(200);
    }
    RawConnection c = gateway.connect();
    c.send("GET /cue/sleep?ms=2000 HTTP/1.1\r\n" + H + "\r\n");
    await().atMost(Duration.ofSeconds(10)).until(() -> gateway.pool("cue").inFlight() == 1);
    c.close();
    // The gateway resets the request and frees its slot at once. (The Python child, whose
    // concurrency is 1, still finishes the sleeping handler before it takes the next request.)
    await().atMost(Duration.ofSeconds(10)).until(() -> gateway.pool("cue").inFlight() == 0);
    assertThat(gateway.pool("cue").instances()).as("the instance is kept, not replaced").hasSize(1);
    try (RawConnection next = gateway.connect()) {
      RawResponse r = next.send("GET /cue/hello HTTP/1.1\r\n" + H + "\r\n").read();
      assertThat(r.status()).isEqualTo(200);
    }
    assertThat(warnings()).as("warnings logged for a client that went away").isEmpty();
  }

  @Test
  void slowClientReadingABigResponseGetsItByteExactWithoutTheGatewayBufferingIt() throws Exception {
    long mb = 50;
    long baseline = heapUsedAfterGc();
    long[] maxGrowth = {0};
    try (RawConnection c = RawConnection.open(gateway.address(), 16 * 1024)) {
      c.send("GET /cue/big?mb=" + mb + " HTTP/1.1\r\n" + H + "\r\n");
      RawResponse head = c.readHead();
      assertThat(head.status()).isEqualTo(200);
      long[] received = {0};
      long[] mismatchAt = {-1};
      c.readBody(
          head,
          false,
          (b, off, len) -> {
            for (int i = 0; i < len; i++) {
              // The cue child repeats the bytes 0..255.
              if (mismatchAt[0] < 0 && (b[off + i] & 0xff) != (int) ((received[0] + i) & 0xff)) {
                mismatchAt[0] = received[0] + i;
              }
            }
            long before = received[0];
            received[0] += len;
            if (before / (10 << 20) != received[0] / (10 << 20)) {
              maxGrowth[0] = Math.max(maxGrowth[0], heapUsedAfterGc() - baseline);
            }
          });
      assertThat(mismatchAt[0]).as("first wrong byte").isEqualTo(-1);
      assertThat(received[0]).isEqualTo(mb << 20);
    }
    assertThat(maxGrowth[0]).as("heap growth while the client was reading").isLessThan(25L << 20);
  }

  private static long heapUsedAfterGc() {
    System.gc();
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
  }

  private static List<String> headerPairs(String json) {
    List<String> out = new ArrayList<>();
    Matcher m = HEADER_PAIR.matcher(json);
    while (m.find()) {
      out.add(m.group(1) + ": " + m.group(2));
    }
    return out;
  }

  private static String sha256(String s) throws Exception {
    return HexFormat.of()
        .formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
  }
}
