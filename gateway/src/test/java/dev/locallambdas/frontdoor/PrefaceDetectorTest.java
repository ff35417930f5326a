package dev.locallambdas.frontdoor;

import static org.assertj.core.api.Assertions.assertThat;

import dev.locallambdas.function.FunctionPool;
import dev.locallambdas.routing.RouteTable;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** Telling an HTTP/2 client with prior knowledge from an HTTP/1.1 one by the first bytes. */
class PrefaceDetectorTest {
  private final RouteTable<FunctionPool> routes = RouteTable.<FunctionPool>builder().build();

  private EmbeddedChannel channel() {
    EmbeddedChannel ch = new EmbeddedChannel();
    FrontDoor.configure(ch.pipeline(), routes, null, null, Duration.ofSeconds(10));
    return ch;
  }

  private static ByteBuf ascii(String s) {
    return Unpooled.copiedBuffer(s, StandardCharsets.US_ASCII);
  }

  @Test
  void thePrefaceInPiecesSwitchesTheConnectionToHttp2() {
    EmbeddedChannel ch = channel();
    ch.writeInbound(ascii("PRI * HTTP/2.0\r\n"));
    assertThat(ch.pipeline().get("preface")).isNotNull();
    ch.writeInbound(ascii("\r\nSM\r\n\r\n"));
    ch.writeInbound(Unpooled.wrappedBuffer(new byte[] {0, 0, 0, 4, 0, 0, 0, 0, 0}));
    ch.checkException();
    assertThat(ch.pipeline().get("preface")).isNull();
    assertThat(ch.pipeline().get("decoder")).isNull();
    assertThat(ch.pipeline().get("h2")).isNotNull();
    ByteBuf out = ch.readOutbound();
    assertThat(out).isNotNull();
    assertThat(out.getByte(3)).as("the server's SETTINGS frame").isEqualTo((byte) 4);
    out.release();
    assertThat(ch.isActive()).isTrue();
    ch.finishAndReleaseAll();
  }

  @Test
  void anHttp11RequestLeavesTheHttp11HandlersAlone() {
    EmbeddedChannel ch = channel();
    ch.writeInbound(ascii("GET /x HTTP/1.1\r\nHost: a\r\n\r\n"));
    assertThat(ch.pipeline().get("preface")).isNull();
    assertThat(ch.pipeline().get("decoder")).isNotNull();
    ByteBuf out = ch.readOutbound();
    assertThat(out.toString(StandardCharsets.US_ASCII)).startsWith("HTTP/1.1 404");
    out.release();
    ch.finishAndReleaseAll();
  }
}
