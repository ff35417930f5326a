package dev.locallambdas.frontdoor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2Headers;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class StreamRequestsTest {
  private static Http2Headers get(String path) {
    return new DefaultHttp2Headers()
        .method("GET")
        .scheme("http")
        .authority("localhost:8080")
        .path(path);
  }

  @Test
  void aBodilessStreamIsAFullRequestWithTheAuthorityAsHostAndNoExtensionFields() throws Exception {
    HttpRequest r = StreamRequests.request(3, get("/a/b?c=d").add("accept", "*/*"), true);
    assertThat(r).isInstanceOf(FullHttpRequest.class);
    assertThat(((FullHttpRequest) r).content().readableBytes()).isZero();
    assertThat(r.method().name()).isEqualTo("GET");
    assertThat(r.uri()).isEqualTo("/a/b?c=d");
    assertThat(r.headers().get("host")).isEqualTo("localhost:8080");
    assertThat(r.headers().get("accept")).isEqualTo("*/*");
    assertThat(r.headers().names()).noneMatch(n -> n.startsWith(":") || n.startsWith("x-http2"));
  }

  @Test
  void aStreamWithABodyOfUnknownLengthIsChunkedAndADeclaredLengthIsKept() throws Exception {
    HttpRequest unknown = StreamRequests.request(1, get("/up").method("POST"), false);
    assertThat(unknown).isNotInstanceOf(FullHttpRequest.class);
    assertThat(unknown.headers().get("transfer-encoding")).isEqualTo("chunked");
    HttpRequest known =
        StreamRequests.request(1, get("/up").method("POST").add("content-length", "5"), false);
    assertThat(known.headers().contains("transfer-encoding")).isFalse();
    assertThat(known.headers().get("content-length")).isEqualTo("5");
  }

  @Test
  void cookieCrumbsBecomeOneField() throws Exception {
    HttpRequest r =
        StreamRequests.request(1, get("/").add("cookie", "a=1").add("cookie", "b=2"), true);
    assertThat(r.headers().getAll("cookie")).containsExactly("a=1; b=2");
  }

  @Test
  void malformedRequestsAreStreamErrors() {
    assertStreamError(new DefaultHttp2Headers().path("/").scheme("http"), "no :method");
    assertStreamError(new DefaultHttp2Headers().method("GET").scheme("http"), "no :path");
    assertStreamError(get("/").add("host", "elsewhere"), "Host and :authority differ");
    // Netty's decoder checks values too; an unchecked header object shows this check holds alone.
    Http2Headers unchecked = new DefaultHttp2Headers(false).method("GET").authority("h").path("/");
    assertStreamError(unchecked.add("x-evil", "a\r\nx-injected: 1"), "a bad field");
    assertStreamError(get("/").method("GE T"), "a bad :method");
  }

  @Test
  void aHostThatMatchesTheAuthorityIsKeptOnce() throws Exception {
    HttpRequest r = StreamRequests.request(1, get("/").add("host", "LOCALHOST:8080"), true);
    assertThat(r.headers().getAll("host")).containsExactly("LOCALHOST:8080");
  }

  @Test
  void connectNamesItsTargetInTheAuthority() throws Exception {
    HttpRequest r =
        StreamRequests.request(
            1, new DefaultHttp2Headers().method("CONNECT").authority("example.com:443"), false);
    assertThat(r.uri()).isEqualTo("example.com:443");
  }

  @Test
  void dataFramesBecomeContentAndTrailersEndTheRequest() {
    EmbeddedChannel ch = new EmbeddedChannel(StreamRequests.INSTANCE);
    ch.writeInbound(new DefaultHttp2HeadersFrame(get("/up").method("POST"), false));
    ch.writeInbound(new DefaultHttp2DataFrame(buf("hello "), false));
    ch.writeInbound(new DefaultHttp2DataFrame(buf("world"), false));
    ch.writeInbound(
        new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().add("x-sum", "1"), true));
    HttpRequest head = ch.readInbound();
    assertThat(head.uri()).isEqualTo("/up");
    HttpContent one = ch.readInbound();
    HttpContent two = ch.readInbound();
    assertThat(one.content().toString(StandardCharsets.US_ASCII)).isEqualTo("hello ");
    assertThat(one).isNotInstanceOf(LastHttpContent.class);
    assertThat(two.content().toString(StandardCharsets.US_ASCII)).isEqualTo("world");
    Object end = ch.readInbound();
    assertThat(end).isInstanceOf(LastHttpContent.class);
    one.release();
    two.release();
    assertThat(ch.finish()).isFalse();
  }

  @Test
  void aLastDataFrameIsTheLastContent() {
    EmbeddedChannel ch = new EmbeddedChannel(StreamRequests.INSTANCE);
    ch.writeInbound(new DefaultHttp2HeadersFrame(get("/up").method("PUT"), false));
    ch.writeInbound(new DefaultHttp2DataFrame(buf("x"), true));
    HttpRequest head = ch.readInbound();
    assertThat(head.method().name()).isEqualTo("PUT");
    LastHttpContent last = ch.readInbound();
    assertThat(last.content().readableBytes()).isEqualTo(1);
    last.release();
    assertThat(ch.finish()).isFalse();
  }

  private static ByteBuf buf(String s) {
    return Unpooled.copiedBuffer(s, StandardCharsets.US_ASCII);
  }

  private static void assertStreamError(Http2Headers h, String why) {
    assertThatThrownBy(() -> StreamRequests.request(5, h, true))
        .isInstanceOf(Http2Exception.StreamException.class)
        .hasMessageContaining(why)
        .satisfies(
            e -> assertThat(((Http2Exception) e).error()).isEqualTo(Http2Error.PROTOCOL_ERROR))
        .satisfies(e -> assertThat(((Http2Exception.StreamException) e).streamId()).isEqualTo(5));
  }
}
