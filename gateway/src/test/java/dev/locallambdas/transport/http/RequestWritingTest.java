package dev.locallambdas.transport.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.locallambdas.exchange.Headers;
import dev.locallambdas.transport.Outcome;
import dev.locallambdas.transport.TransportException.Kind;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * What the gateway writes to a child's server, checked byte for byte with a child played in memory:
 * the head (method, target, end-to-end fields, Host, framing), the body as given, and how many
 * flushes it takes.
 */
@ExtendWith(NoBufferLeaks.class)
@SuppressWarnings("StringConcatToTextBlock") // protocol text with CRLF reads better as lines
class RequestWritingTest {
  private final InMemoryChild child = new InMemoryChild();
  private int flushes;

  @AfterEach
  void noExceptionEscapedAndNothingLeaked() {
    child.finish();
  }

  private void countFlushes() {
    child
        .channel
        .pipeline()
        .addFirst(
            new ChannelOutboundHandlerAdapter() {
              @Override
              public void flush(ChannelHandlerContext ctx) {
                flushes++;
                ctx.flush();
              }
            });
  }

  private static ByteBuf bytes(String s) {
    return Unpooled.wrappedBuffer(s.getBytes(StandardCharsets.ISO_8859_1));
  }

  @Test
  void writesARequestWithoutBodyInOneFlush() {
    countFlushes();
    child.open(Fixture.get("/echo/a%20b?x=1&y=%20"));

    assertThat(child.sent())
        .isEqualTo("GET /echo/a%20b?x=1&y=%20 HTTP/1.1\r\nhost: localhost\r\n\r\n");
    assertThat(flushes).isEqualTo(1);
  }

  @Test
  void forwardsEndToEndFieldsOnlyAndKeepsTheGivenHost() {
    Headers headers =
        Headers.builder()
            .add("Host", "example.test")
            .add("X-Forwarded-For", "10.1.2.3")
            .add("Connection", "X-Hop")
            .add("X-Hop", "dropped")
            .add("Keep-Alive", "timeout=5")
            .add("TE", "trailers")
            .add("Transfer-Encoding", "chunked")
            .add("Content-Length", "99")
            .add("Upgrade", "h2c")
            .build();
    child.open(Fixture.request("GET", "/x", 0, headers));

    assertThat(child.sent())
        .isEqualTo("GET /x HTTP/1.1\r\nhost: example.test\r\nx-forwarded-for: 10.1.2.3\r\n\r\n");
  }

  @Test
  void sendsFieldValuesAsTheBytesReceived() {
    // The front door decodes field bytes as ISO-8859-1; "\u00e9" is the byte 0xE9.
    Headers headers = Headers.builder().add("X-Name", "caf\u00e9").build();
    child.open(Fixture.request("GET", "/x", 0, headers));

    assertThat(child.sent()).contains("x-name: caf\u00e9\r\n");
  }

  @Test
  void announcesAnEmptyBodyForMethodsThatUsuallyHaveOne() {
    child.open(Fixture.request("POST", "/x", 0));
    assertThat(child.sent()).contains("content-length: 0\r\n");

    InMemoryChild other = new InMemoryChild();
    other.open(Fixture.request("DELETE", "/x", 0));
    assertThat(other.sent()).doesNotContain("content-length");
    other.finish();
  }

  @Test
  void passesABodyOfKnownLengthThroughUncopied() {
    Transcript t = child.open(Fixture.request("PUT", "/x", 10));
    ByteBuf first = bytes("hello");
    t.call.body(first, false);
    assertThat(child.channel.outboundMessages()).hasSize(2);
    ByteBuf head = (ByteBuf) child.channel.readOutbound();
    assertThat(head.toString(StandardCharsets.US_ASCII))
        .isEqualTo("PUT /x HTTP/1.1\r\nhost: localhost\r\ncontent-length: 10\r\n\r\n");
    head.release();
    ByteBuf written = (ByteBuf) child.channel.readOutbound();
    assertThat(written).as("the very buffer given").isSameAs(first);
    written.release();

    t.call.body(bytes("world"), true);
    assertThat(child.sent()).isEqualTo("world");
    child.answer("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    assertThat(t.released).isEqualTo(Outcome.OK);
    assertThat(child.pool.idleCount()).isEqualTo(1);
  }

  @Test
  void aBodyOfKnownLengthEndsWithItsLastByteAndTheConnectionCarriesTheNext() {
    Transcript t = child.open(Fixture.request("PUT", "/x", 5));
    t.call.body(bytes("hello"), false);
    child.answer("HTTP/1.1 204 No Content\r\n\r\n");
    t.call.body(bytes(""), true); // the caller's end, after the fact: dropped
    assertThat(t.released).isEqualTo(Outcome.OK);
    assertThat(child.pool.idleCount()).isEqualTo(1);
    child.sent();

    Transcript next = child.open(Fixture.get("/next"));
    assertThat(child.sent()).startsWith("GET /next HTTP/1.1\r\n");
    child.answer("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    assertThat(next.released).isEqualTo(Outcome.OK);
    assertThat(t.violations).isEmpty();
  }

  @Test
  void framesABodyOfUnknownLengthAsChunks() {
    Transcript t = child.open(Fixture.request("POST", "/x", -1));
    t.call.body(bytes("hello "), false);
    t.call.body(bytes(""), false);
    t.call.body(bytes("world"), false);
    t.call.body(bytes(""), true);

    assertThat(child.sent())
        .isEqualTo(
            "POST /x HTTP/1.1\r\nhost: localhost\r\ntransfer-encoding: chunked\r\n\r\n"
                + "6\r\nhello \r\n5\r\nworld\r\n0\r\n\r\n");
  }

  @Test
  void neverSendsMoreBodyThanDeclared() {
    Transcript t = child.open(Fixture.request("POST", "/x", 3));
    child.sent();
    t.call.body(bytes("four"), false);

    assertThat(child.sent()).isEmpty();
    assertThat(child.channel.isOpen()).isFalse();
    assertThat(t.failure).hasMessageContaining("more than its declared 3 bytes");
    assertThat(t.released).isEqualTo(Outcome.FAILED);
    t.call.body(bytes("late"), true); // released and dropped
  }

  @Test
  void failsABodyThatEndsShortOfItsLength() {
    Transcript t = child.open(Fixture.request("POST", "/x", 3));
    t.call.body(bytes("ab"), true);

    assertThat(t.failure).hasMessageContaining("fewer than its declared 3 bytes");
    assertThat(child.channel.isOpen()).isFalse();
  }

  @Test
  void anAnswerBeforeTheBodyEndsLeavesTheConnectionUnusable() {
    Transcript t = child.open(Fixture.request("POST", "/x", -1));
    t.call.body(bytes("part"), false);
    child.answer("HTTP/1.1 413 Content Too Large\r\nContent-Length: 0\r\n\r\n");

    assertThat(t.status).isEqualTo(413);
    assertThat(t.released).isEqualTo(Outcome.OK);
    assertThat(child.pool.idleCount()).isZero();
    assertThat(child.channel.isOpen()).isFalse();
    t.call.body(bytes("rest"), true); // dropped
    assertThat(t.violations).isEmpty();
  }

  @Test
  void refusesARequestThatIsNotValidHttp() {
    Headers split = Headers.builder().add("X-Evil", "a\r\nx-injected: 1").build();
    assertThatThrownBy(() -> child.open(Fixture.request("GET", "/x", 0, split)))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> child.open(Fixture.request("G T", "/x", 0)))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> child.open(Fixture.get("/a b")))
        .isInstanceOf(IllegalArgumentException.class);
    assertThat(child.sent()).isEmpty();
  }

  @Test
  void aClosedPoolDoesNotDeliver() {
    child.pool.close();
    Transcript t = child.open(Fixture.get("/x"));
    assertThat(t.released).as("not from inside open").isNull();
    child.turn();

    assertThat(t.failure.kind()).isEqualTo(Kind.NOT_DELIVERED);
    assertThat(t.released).isEqualTo(Outcome.BROKEN);
  }
}
