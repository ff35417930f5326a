package dev.locallambdas.transport.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.locallambdas.exchange.Request;
import dev.locallambdas.transport.Outcome;
import dev.locallambdas.transport.TransportException.Kind;
import java.nio.charset.StandardCharsets;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * How a child's response is read, checked with a child played in memory: what is accepted and
 * forwarded, what is refused as a protocol violation (the front door answers 502 and the instance
 * is replaced), and when the connection may carry the next request.
 */
@ExtendWith(NoBufferLeaks.class)
@SuppressWarnings("StringConcatToTextBlock") // protocol text with CRLF reads better as lines
class ResponseDecodingTest {
  private final InMemoryChild child = new InMemoryChild();

  @AfterEach
  void noExceptionEscapedAndNothingLeaked() {
    child.finish();
  }

  private Transcript get(String response) {
    return answer(Fixture.get("/x"), response);
  }

  private Transcript answer(Request request, String response) {
    Transcript t = child.open(request);
    child.sent();
    child.answer(response);
    assertThat(t.violations).isEmpty();
    return t;
  }

  private void assertRefused(Transcript t, String message) {
    assertThat(t.failure).as("failure").isNotNull();
    assertThat(t.failure.kind()).isEqualTo(Kind.PROTOCOL);
    assertThat(t.failure).hasMessageContaining(message).hasMessageStartingWith("child 'memory'");
    assertThat(t.status).as("no head was forwarded").isEqualTo(-1);
    assertThat(t.released).isEqualTo(Outcome.BROKEN);
    assertThat(child.channel.isOpen()).as("connection closed").isFalse();
  }

  private void assertPooled(boolean pooled) {
    assertThat(child.pool.idleCount())
        .as("connection kept for the next request")
        .isEqualTo(pooled ? 1 : 0);
    assertThat(child.channel.isOpen()).isEqualTo(pooled);
  }

  @Test
  void forwardsAnAnswerWithContentLengthAndKeepsTheConnection() {
    Transcript t =
        get("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello");

    assertThat(t.status).isEqualTo(200);
    assertThat(t.headers.get("content-type")).isEqualTo("text/plain");
    assertThat(t.headers.get("content-length")).isNull();
    assertThat(t.contentLength).isEqualTo(5);
    assertThat(t.body.toString(StandardCharsets.US_ASCII)).isEqualTo("hello");
    assertThat(t.ended).isTrue();
    assertThat(t.released).isEqualTo(Outcome.OK);
    assertPooled(true);
  }

  @Test
  void forwardsAChunkedAnswerWithExtensionsAndDropsItsTrailers() {
    Transcript t =
        get(
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "5;name=\"v\"\r\nhello\r\n1 ; x\r\n!\r\n0\r\nX-Checksum: 1\r\n\r\n");

    assertThat(t.contentLength).isEqualTo(-1);
    assertThat(t.headers.get("transfer-encoding")).isNull();
    assertThat(t.body.toString(StandardCharsets.US_ASCII)).isEqualTo("hello!");
    assertThat(t.released).isEqualTo(Outcome.OK);
    assertPooled(true);
  }

  @Test
  void readsABodyWithoutLengthUntilTheChildCloses() {
    Transcript t = get("HTTP/1.1 200 OK\r\n\r\nall of it");
    assertThat(t.contentLength).isEqualTo(-1);
    assertThat(t.ended).isFalse();

    child.close();
    assertThat(t.body.toString(StandardCharsets.US_ASCII)).isEqualTo("all of it");
    assertThat(t.ended).isTrue();
    assertThat(t.released).isEqualTo(Outcome.OK);
  }

  @Test
  void skipsInterimAnswers() {
    Transcript t =
        get(
            "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </s>\r\n\r\n"
                + "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n");

    assertThat(t.status).isEqualTo(201);
    assertThat(t.headers.get("link")).isNull();
    assertThat(t.released).isEqualTo(Outcome.OK);
  }

  @Test
  void announcesTheDeclaredLengthOfAHeadAnswer() {
    Transcript t =
        answer(Fixture.request("HEAD", "/x", 0), "HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n");

    assertThat(t.contentLength).isEqualTo(1234);
    assertThat(t.body.size()).isZero();
    assertThat(t.released).isEqualTo(Outcome.OK);
    assertPooled(true);
  }

  @Test
  void answersWithoutBodyAnnounceNothing() {
    Transcript t = get("HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\nETag: \"a\"\r\n\r\n");

    assertThat(t.contentLength).isZero();
    assertThat(t.headers.get("etag")).isEqualTo("\"a\"");
    assertPooled(true);
  }

  @Test
  void keepsAnHttp10ConnectionOnlyWhenAskedTo() {
    Transcript closing = get("HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok");
    assertThat(closing.released).isEqualTo(Outcome.OK);
    assertPooled(false);
  }

  @Test
  void keepsAnHttp10ConnectionWithKeepAlive() {
    get("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok");
    assertPooled(true);
  }

  @Test
  void closesTheConnectionWhenTheChildSaysClose() {
    Transcript t = get("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok");
    assertThat(t.headers.get("connection")).isNull();
    assertPooled(false);
  }

  @Test
  void removesHopByHopFieldsAndTheFieldsConnectionNames() {
    Transcript t =
        get(
            "HTTP/1.1 200 OK\r\nConnection: keep-alive, X-Private\r\nX-Private: secret\r\n"
                + "Keep-Alive: timeout=5\r\nUpgrade: h2c\r\nX-Public: visible\r\nContent-Length: 0\r\n\r\n");

    assertThat(t.headers.get("x-public")).isEqualTo("visible");
    assertThat(t.headers.size()).isEqualTo(1);
  }

  /** RFC 9112 5.2 lets a proxy replace obs-fold with spaces; Netty does, and the value is clean. */
  @Test
  void unfoldsAFoldedFieldValue() {
    Transcript t =
        get("HTTP/1.1 200 OK\r\nX-Folded: first\r\n  second\r\nContent-Length: 0\r\n\r\n");
    assertThat(t.headers.get("x-folded")).isEqualTo("first second");
    assertThat(t.released).isEqualTo(Outcome.OK);
  }

  /** RFC 9112 4 lets a recipient split the status line on any whitespace. */
  @Test
  void acceptsExtraWhitespaceInTheStatusLine() {
    Transcript t = get("HTTP/1.1  200\tOK \r\nContent-Length: 0\r\n\r\n");
    assertThat(t.status).isEqualTo(200);
  }

  /** RFC 9112 2.2's robustness rule, written for request lines, applied to the answer. */
  @Test
  void skipsEmptyLinesBeforeTheStatusLine() {
    Transcript t = get("\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    assertThat(t.status).isEqualTo(200);
  }

  /** RFC 9110 5.6.1: empty list elements are ignored. */
  @Test
  void ignoresAnEmptyElementInTheTransferCodings() {
    Transcript t =
        get("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked,\r\n\r\n2\r\nok\r\n0\r\n\r\n");
    assertThat(t.body.toString(StandardCharsets.US_ASCII)).isEqualTo("ok");
    assertThat(t.released).isEqualTo(Outcome.OK);
  }

  @Test
  void sameAnswerWhateverHowItIsSplit() {
    String response =
        "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
            + "X-A: 1\r\n\r\n3\r\nabc\r\n10\r\n0123456789abcdef\r\n0\r\n\r\n";
    String whole = get(response).summary();
    child.finish();

    InMemoryChild byteByByte = new InMemoryChild();
    Transcript t = byteByByte.open(Fixture.get("/x"));
    for (byte b : response.getBytes(StandardCharsets.ISO_8859_1)) {
      byteByByte.answer(new byte[] {b});
    }
    assertThat(t.summary()).isEqualTo(whole);
    assertThat(t.body.toString(StandardCharsets.US_ASCII)).isEqualTo("abc0123456789abcdef");
    byteByByte.finish();
  }

  static Stream<Arguments> violations() {
    String ok = "\r\nContent-Length: 0\r\n\r\n";
    return Stream.of(
        Arguments.of("HTTP/2 200 OK" + ok, "invalid status line (version 'HTTP/2')"),
        Arguments.of("http/1.1 200 OK" + ok, "invalid status line"),
        Arguments.of("HTTP/1.1 2000 OK" + ok, "invalid status line (status '2000')"),
        Arguments.of("HTTP/1.1 +20 OK" + ok, "invalid status line"),
        Arguments.of("HTTP/1.1 099 Low" + ok, "status 99, outside 100-599"),
        Arguments.of("HTTP/1.1 600 High" + ok, "status 600, outside 100-599"),
        Arguments.of("HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n", "101"),
        Arguments.of("HTTP/1.1 200 O\u0001K" + ok, "control character in the reason phrase"),
        Arguments.of("garbage\r\n\r\n", "invalid status line"),
        Arguments.of("HTTP/1.1 200 OK\r\nBad Name: x" + ok, "invalid header line"),
        Arguments.of("HTTP/1.1 200 OK\r\nName : x" + ok, "invalid header line"),
        Arguments.of("HTTP/1.1 200 OK\r\nNo colon here" + ok, "invalid header line"),
        Arguments.of("HTTP/1.1 200 OK\r\n folded: first" + ok, "invalid header line"),
        Arguments.of("HTTP/1.1 200 OK\r\n: empty" + ok, "invalid header line"),
        Arguments.of("HTTP/1.1 200 OK\r\nB@d: x" + ok, "invalid name 'B@d'"),
        Arguments.of("HTTP/1.1 200 OK\r\nX-Bad: a\rb" + ok, "control character in its value"),
        Arguments.of("HTTP/1.1 200 OK\r\nX-Bad: a\u0000b" + ok, "control character in its value"),
        Arguments.of("HTTP/1.1 200 OK\r\nX-Bad: a\u007fb" + ok, "control character in its value"),
        Arguments.of(
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", "only chunked is supported"),
        Arguments.of(
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
            "only chunked is supported"),
        Arguments.of(
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
            "invalid response"),
        Arguments.of(
            "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", "invalid response"),
        Arguments.of(
            "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
            "invalid response"),
        Arguments.of(
            "HTTP/1.0 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
            "more than one Content-Length"),
        Arguments.of(
            "HTTP/1.0 200 OK\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n",
            "more than one Content-Length"),
        Arguments.of("HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\n\r\n", "invalid response"),
        Arguments.of("HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\n", "invalid response"),
        Arguments.of(
            "HTTP/1.0 200 OK\r\nContent-Length: 1234567890123456789\r\n\r\n",
            "invalid Content-Length"),
        Arguments.of("HTTP/1.1 200 OK\nContent-Length: 0\n\n", "invalid response"),
        Arguments.of(
            "HTTP/1.1 200 OK\r\nX-Big: " + "x".repeat(70_000) + ok, "longer than its limit"),
        Arguments.of(
            "HTTP/1.1 200 OK\r\n" + "X-Many: 0123456789012345678901234567\r\n".repeat(2000) + ok,
            "longer than its limit"),
        Arguments.of(
            "HTTP/1.1 100 Continue\r\nX-Pad: "
                + "y".repeat(40_000)
                + "\r\n\r\n"
                + "HTTP/1.1 200 OK\r\nX-Pad: "
                + "z".repeat(30_000)
                + ok,
            "larger than the limit of 64 KiB"));
  }

  @ParameterizedTest
  @MethodSource("violations")
  void refusesAnInvalidHead(String response, String message) {
    assertRefused(get(response), message);
  }

  static Stream<Arguments> bodyViolations() {
    String chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
    return Stream.of(
        Arguments.of(chunked + "zz\r\n", "invalid response"),
        Arguments.of(chunked + "3\r\nabcd\r\n0\r\n\r\n", "invalid response"),
        Arguments.of(chunked + "3\nabc\r\n0\r\n\r\n", "invalid response"),
        Arguments.of(chunked + "3 x\r\nabc\r\n0\r\n\r\n", "invalid response"),
        Arguments.of(chunked + "3;a=\"b\r\nabc\r\n0\r\n\r\n", "invalid response"),
        Arguments.of(chunked + "f".repeat(9000) + "\r\n", "longer than its limit"),
        Arguments.of(chunked + "80000000\r\n", "invalid response"),
        Arguments.of(chunked + "0\r\nBad Name: x\r\n\r\n", "invalid header line"),
        Arguments.of(chunked + "0\r\nX-T: a\u0001b\r\n\r\n", "trailer field 'X-T' with a control"));
  }

  /** After the head the response is cut off: the client sees a broken answer, not a whole one. */
  @ParameterizedTest
  @MethodSource("bodyViolations")
  void refusesAnInvalidBody(String response, String message) {
    Transcript t = get(response);
    assertThat(t.status).isEqualTo(200);
    assertThat(t.ended).isFalse();
    assertThat(t.failure).isNotNull();
    assertThat(t.failure.kind()).isEqualTo(Kind.PROTOCOL);
    assertThat(t.failure).hasMessageContaining(message);
    assertThat(t.released).isEqualTo(Outcome.BROKEN);
    assertThat(child.channel.isOpen()).isFalse();
  }

  @Test
  void aChildClosingMidHeadFailedTheCall() {
    Transcript t = get("HTTP/1.1 200 OK\r\nContent-Le");
    child.close();
    assertThat(t.failure.kind()).isEqualTo(Kind.CHILD_FAILED);
    assertThat(t.failure).hasMessageContaining("in the middle of the response head");
    assertThat(t.released).isEqualTo(Outcome.BROKEN);
  }

  @Test
  void aChildClosingMidBodyFailsTheCallAfterTheHead() {
    Transcript t = get("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc");
    child.close();
    assertThat(t.status).isEqualTo(200);
    assertThat(t.failure.kind()).isEqualTo(Kind.CHILD_FAILED);
    assertThat(t.failure).hasMessageContaining("after 3 of 10 body bytes");
    assertThat(t.released).isEqualTo(Outcome.BROKEN);
  }

  @Test
  void aChildClosingMidChunkedBodyFailsTheCall() {
    Transcript t = get("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab");
    child.close();
    assertThat(t.failure.kind()).isEqualTo(Kind.CHILD_FAILED);
  }

  @Test
  void aChildClosingANewConnectionWithoutAnsweringFailedTheCall() {
    Transcript t = get("");
    child.close();
    assertThat(t.failure.kind()).isEqualTo(Kind.CHILD_FAILED);
    assertThat(t.failure).hasMessageContaining("without answering");
    assertThat(t.released).isEqualTo(Outcome.BROKEN);
  }

  @Test
  void bytesAfterTheAnswerMeanTheConnectionIsNotReused() {
    Transcript t = get("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\n");
    assertThat(t.released).isEqualTo(Outcome.OK);
    assertPooled(false);
  }

  @Test
  void bytesOnAnIdleConnectionCloseIt() {
    get("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    assertPooled(true);

    child.answer("HTTP/1.1 200 OK\r\n");
    assertPooled(false);
  }
}
