package dev.locallambdas.frontdoor;

import static org.assertj.core.api.Assertions.assertThat;

import dev.locallambdas.it.NoLeaks;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A corpus of raw requests, each sent byte for byte over a real socket to a real gateway: the
 * status it must get, whether the connection must close afterwards, and whether the request may
 * reach a function at all. Requests that must be refused are aimed at the {@code guard} function
 * (or {@code small} for body limits), which must never be started. Every error response must be
 * application/problem+json. docs/frontdoor.md explains each decision.
 *
 * <p>Absolute-form targets ({@code GET http://host/path}) are accepted, as RFC 9112 section 3.2.2
 * requires of servers, and routed by their path; user info, other schemes, authority-form and
 * asterisk-form are refused with 400.
 */
@ExtendWith(NoLeaks.class)
class FrontDoorConformanceTest {
  private static final String H = "Host: gw\r\n";
  private static final String FOLLOW_UP = "GET /nowhere HTTP/1.1\r\nHost: gw\r\n\r\n";

  enum Conn {
    CLOSE,
    KEEP
  }

  enum Reach {
    /** The guard and small functions must not be started. */
    NONE,
    /** The request is served by a function (or may reach one before it is refused). */
    ANY
  }

  record Case(String name, String request, int status, Conn conn, Reach reach) {
    @Override
    public String toString() {
      return name;
    }
  }

  private static Case refuse(String name, String request, int status) {
    return new Case(name, request, status, Conn.CLOSE, Reach.NONE);
  }

  private static Case withBody(String name, String headers, int status) {
    return refuse(name, "POST /guard/x HTTP/1.1\r\n" + H + headers + "\r\nabc", status);
  }

  static Stream<Case> corpus() {
    return Stream.of(
        // Request line
        refuse("HTTP/0.9 request line without a version", "GET /guard/x\r\n\r\n", 400),
        refuse("extra word after the version", "GET /guard/x HTTP/1.1 x\r\n" + H + "\r\n", 400),
        refuse("separator in the method", "G(T /guard/x HTTP/1.1\r\n" + H + "\r\n", 400),
        refuse("control byte in the method", "G\u0001T /guard/x HTTP/1.1\r\n" + H + "\r\n", 400),
        refuse("missing request target", "GET HTTP/1.1\r\n" + H + "\r\n", 400),
        refuse(
            "tab instead of space in the request line",
            "GET\t/guard/x\tHTTP/1.1\r\n" + H + "\r\n",
            400),
        refuse("malformed version", "GET /guard/x HTTP/1.x\r\n" + H + "\r\n", 400),
        refuse("lower-case HTTP-name", "GET /guard/x http/1.1\r\n" + H + "\r\n", 400),
        refuse("leading zero in the version", "GET /guard/x HTTP/01.1\r\n" + H + "\r\n", 400),
        refuse("version without a minor number", "GET /guard/x HTTP/3\r\n" + H + "\r\n", 400),
        refuse("HTTP/2.0 request line", "GET /guard/x HTTP/2.0\r\n" + H + "\r\n", 505),
        new Case(
            "HTTP/1.2 is served as HTTP/1.1",
            "GET /cue/hello HTTP/1.2\r\n" + H + "\r\n",
            200,
            Conn.KEEP,
            Reach.ANY),
        new Case(
            "empty line before the request line is ignored",
            "\r\nGET /cue/hello HTTP/1.1\r\n" + H + "\r\n",
            200,
            Conn.KEEP,
            Reach.ANY),
        // Request target
        new Case(
            "%2F stays inside its segment",
            "GET /guard%2Fx HTTP/1.1\r\n" + H + "\r\n", 404, Conn.KEEP, Reach.NONE),
        refuse("dot-dot above the root", "GET /../guard/x HTTP/1.1\r\n" + H + "\r\n", 400),
        refuse(
            "encoded dot-dot above the root", "GET /%2e%2e/guard/x HTTP/1.1\r\n" + H + "\r\n", 400),
        refuse("fragment in the target", "GET /guard/x#f HTTP/1.1\r\n" + H + "\r\n", 400),
        refuse("NUL in the target", "GET /guard/\u0000x HTTP/1.1\r\n" + H + "\r\n", 400),
        refuse("encoded NUL in the target", "GET /guard/%00x HTTP/1.1\r\n" + H + "\r\n", 400),
        refuse(
            "non-ASCII bytes in the target",
            "GET /guard/\u00c3\u00a9 HTTP/1.1\r\n" + H + "\r\n",
            400),
        refuse("space in the target", "GET /guard/a b HTTP/1.1\r\n" + H + "\r\n", 400),
        refuse("malformed percent-encoding", "GET /guard/%zz HTTP/1.1\r\n" + H + "\r\n", 400),
        refuse("backslash in the target", "GET /guard\\x HTTP/1.1\r\n" + H + "\r\n", 400),
        new Case(
            "absolute-form target is routed by its path",
            "GET http://gw/cue/hello HTTP/1.1\r\n" + H + "\r\n",
            200,
            Conn.KEEP,
            Reach.ANY),
        refuse(
            "absolute-form target with user info",
            "GET http://u@gw/guard/x HTTP/1.1\r\n" + H + "\r\n",
            400),
        refuse(
            "absolute-form target with another scheme",
            "GET ftp://gw/guard/x HTTP/1.1\r\n" + H + "\r\n",
            400),
        refuse(
            "absolute-form target without an authority",
            "GET http:///guard/x HTTP/1.1\r\n" + H + "\r\n",
            400),
        refuse("authority-form target (CONNECT)", "CONNECT gw:443 HTTP/1.1\r\n" + H + "\r\n", 400),
        refuse("asterisk-form target", "OPTIONS * HTTP/1.1\r\n" + H + "\r\n", 400),
        // Sizes
        refuse(
            "request line over 8 KiB",
            "GET /guard/" + "a".repeat(9000) + " HTTP/1.1\r\n" + H + "\r\n",
            414),
        refuse(
            "header section over 16 KiB",
            "GET /guard/x HTTP/1.1\r\n" + H + "X-Big: " + "b".repeat(17000) + "\r\n\r\n",
            431),
        refuse(
            "many headers over 16 KiB",
            "GET /guard/x HTTP/1.1\r\n"
                + H
                + "X-Many: 0123456789012345678901234567890123456789\r\n".repeat(400)
                + "\r\n",
            431),
        // Host
        refuse("HTTP/1.1 without Host", "GET /guard/x HTTP/1.1\r\n\r\n", 400),
        refuse("two Host headers", "GET /guard/x HTTP/1.1\r\n" + H + H + "\r\n", 400),
        refuse("Host with a space", "GET /guard/x HTTP/1.1\r\nHost: g w\r\n\r\n", 400),
        refuse("Host with a slash", "GET /guard/x HTTP/1.1\r\nHost: gw/x\r\n\r\n", 400),
        refuse("Host with user info", "GET /guard/x HTTP/1.1\r\nHost: u@gw\r\n\r\n", 400),
        new Case(
            "HTTP/1.0 without Host is served",
            "GET /cue/hello HTTP/1.0\r\n\r\n",
            200,
            Conn.CLOSE,
            Reach.ANY),
        // Framing
        withBody(
            "Content-Length with Transfer-Encoding",
            "Content-Length: 3\r\nTransfer-Encoding: chunked\r\n",
            400),
        withBody("Content-Length +3", "Content-Length: +3\r\n", 400),
        withBody("Content-Length -1", "Content-Length: -1\r\n", 400),
        withBody("Content-Length 0x3", "Content-Length: 0x3\r\n", 400),
        withBody("empty Content-Length", "Content-Length: \r\n", 400),
        withBody("Content-Length list 3, 4", "Content-Length: 3, 4\r\n", 400),
        withBody("Content-Length list 3, 3", "Content-Length: 3, 3\r\n", 400),
        withBody("two Content-Length lines", "Content-Length: 3\r\nContent-Length: 3\r\n", 400),
        withBody(
            "Content-Length overflowing a long", "Content-Length: 99999999999999999999\r\n", 400),
        withBody("Transfer-Encoding gzip", "Transfer-Encoding: gzip\r\n", 400),
        withBody("Transfer-Encoding gzip, chunked", "Transfer-Encoding: gzip, chunked\r\n", 501),
        withBody("Transfer-Encoding chunked twice", "Transfer-Encoding: chunked, chunked\r\n", 400),
        refuse(
            "Transfer-Encoding on HTTP/1.0",
            "POST /guard/x HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
            400),
        new Case(
            "Transfer-Encoding is case-insensitive",
            "POST /cue/sha256 HTTP/1.1\r\n"
                + H
                + "Transfer-Encoding: Chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
            200,
            Conn.KEEP,
            Reach.ANY),
        new Case(
            "bad chunk size",
            "POST /cue/sha256 HTTP/1.1\r\n"
                + H
                + "Transfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n",
            400,
            Conn.CLOSE,
            Reach.ANY),
        new Case(
            "chunk size overflow",
            "POST /cue/sha256 HTTP/1.1\r\n"
                + H
                + "Transfer-Encoding: chunked\r\n\r\nfffffffffffffffffff\r\nabc\r\n0\r\n\r\n",
            400,
            Conn.CLOSE,
            Reach.ANY),
        new Case(
            "chunk data without its CRLF",
            "POST /cue/sha256 HTTP/1.1\r\n"
                + H
                + "Transfer-Encoding: chunked\r\n\r\n3\r\nabcX0\r\n\r\n",
            400,
            Conn.CLOSE,
            Reach.ANY),
        // Header syntax
        refuse("space before the colon", "GET /guard/x HTTP/1.1\r\n" + H + "X-A : 1\r\n\r\n", 400),
        refuse(
            "obs-fold continuation line",
            "GET /guard/x HTTP/1.1\r\n" + H + "X-A: 1\r\n 2\r\n\r\n",
            400),
        refuse(
            "obs-fold with a tab", "GET /guard/x HTTP/1.1\r\n" + H + "X-A: 1\r\n\t2\r\n\r\n", 400),
        refuse(
            "header line without a colon", "GET /guard/x HTTP/1.1\r\n" + H + "X-A 1\r\n\r\n", 400),
        refuse(
            "separator in a header name", "GET /guard/x HTTP/1.1\r\n" + H + "X(A: 1\r\n\r\n", 400),
        refuse("empty header name", "GET /guard/x HTTP/1.1\r\n" + H + ": 1\r\n\r\n", 400),
        refuse(
            "NUL in a header value",
            "GET /guard/x HTTP/1.1\r\n" + H + "X-A: a\u0000b\r\n\r\n",
            400),
        refuse(
            "bare CR in a header value",
            "GET /guard/x HTTP/1.1\r\n" + H + "X-A: a\rb\r\n\r\n",
            400),
        refuse("bare LF line endings", "GET /guard/x HTTP/1.1\nHost: gw\n\n", 400),
        refuse(
            "bare LF ending one header line",
            "GET /guard/x HTTP/1.1\r\nHost: gw\nX-A: 1\r\n\r\n",
            400),
        // Expectations and limits
        refuse(
            "unknown expectation",
            "GET /guard/x HTTP/1.1\r\n" + H + "Expect: something-else\r\n\r\n",
            417),
        refuse(
            "declared body over max_body_size, head only",
            "POST /small/x HTTP/1.1\r\n" + H + "Content-Length: 2000\r\n\r\n",
            413),
        new Case(
            "unknown route",
            "GET /nowhere/x HTTP/1.1\r\n" + H + "\r\n",
            404,
            Conn.KEEP,
            Reach.NONE));
  }

  private TestGateway gateway;

  @BeforeEach
  void start() throws Exception {
    gateway = TestGateway.start();
  }

  @AfterEach
  void stop() {
    gateway.close();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("corpus")
  void answersAsSpecified(Case c) throws Exception {
    try (RawConnection conn = gateway.connect()) {
      conn.send(c.request());
      RawResponse r = conn.read();
      assertThat(r.status()).as("status for %s: %s", c.name(), r).isEqualTo(c.status());
      if (r.status() >= 400) {
        assertProblemJson(r);
      }
      if (c.conn() == Conn.CLOSE) {
        assertThat(r.header("connection"))
            .as("Connection header of %s", r)
            .isEqualToIgnoringCase("close");
        assertThat(conn.closedByServer()).as("connection closed after %s", c.name()).isTrue();
      } else {
        assertThat(r.header("connection")).as("Connection header of %s", r).isNull();
        RawResponse next = conn.send(FOLLOW_UP).read();
        assertThat(next.status()).as("the connection still serves requests").isEqualTo(404);
      }
    }
    if (c.reach() == Reach.NONE) {
      assertThat(gateway.neverStarted("guard")).as("guard function reached").isTrue();
      assertThat(gateway.neverStarted("small")).as("small function reached").isTrue();
    }
  }

  static void assertProblemJson(RawResponse r) {
    assertThat(r.header("content-type"))
        .as("content type of %s", r)
        .isEqualTo("application/problem+json");
    String json = r.text();
    assertThat(json)
        .as("problem body of %s", r)
        .startsWith("{\"type\":\"https://local-lambdas.dev/problems/")
        .containsPattern("\"title\":\"[^\"]+\"")
        .contains("\"status\":" + r.status() + ",")
        .containsPattern("\"detail\":\"[^\"]+\"");
  }
}
