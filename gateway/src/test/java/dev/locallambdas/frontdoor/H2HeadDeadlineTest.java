package dev.locallambdas.frontdoor;

import static org.assertj.core.api.Assertions.assertThat;

import dev.locallambdas.function.FunctionPool;
import dev.locallambdas.metrics.GatewayMetrics;
import dev.locallambdas.routing.RouteTable;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.local.LocalServerChannel;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2GoAwayFrame;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The HTTP/2 header timeout on an EmbeddedChannel whose clock the test advances: the handler alone
 * (what starts and stops the clock, frame headers split anywhere, GOAWAY and close when a block or
 * the preface stalls), then in the front door's pipelines (prior knowledge and h2c upgrade).
 */
class H2HeadDeadlineTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(10);
  private static final byte[] PREFACE =
      "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
  private static final int DATA = 0;
  private static final int HEADERS = 1;
  private static final int SETTINGS = 4;
  private static final int GOAWAY = 7;
  private static final int CONTINUATION = 9;
  private static final int END_STREAM = 0x1;
  private static final int END_HEADERS = 0x4;

  private final GatewayMetrics metrics = new GatewayMetrics();
  private EmbeddedChannel channel;
  private H2HeadDeadline deadline;

  @AfterEach
  void done() {
    if (channel != null) {
      channel.finishAndReleaseAll();
      channel = null;
    }
  }

  private void alone() {
    deadline = new H2HeadDeadline(TIMEOUT, Duration.ZERO, metrics);
    channel = new EmbeddedChannel();
    channel.freezeTime();
    channel.pipeline().addLast(deadline);
  }

  private static byte[] frame(int type, int flags, int stream, int payloadLength) {
    byte[] f = new byte[9 + payloadLength];
    f[0] = (byte) (payloadLength >>> 16);
    f[1] = (byte) (payloadLength >>> 8);
    f[2] = (byte) payloadLength;
    f[3] = (byte) type;
    f[4] = (byte) flags;
    f[5] = (byte) (stream >>> 24);
    f[6] = (byte) (stream >>> 16);
    f[7] = (byte) (stream >>> 8);
    f[8] = (byte) stream;
    for (int i = 9; i < f.length; i++) {
      f[i] = (byte) (type == DATA ? 0x01 : 0x04); // payload bytes that look like frame types
    }
    return f;
  }

  private static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    for (byte[] p : parts) {
      b.writeBytes(p);
    }
    return b.toByteArray();
  }

  private static final byte[] OPENING = concat(PREFACE, frame(SETTINGS, 0, 0, 6));

  private void send(byte[] bytes) {
    channel.writeInbound(Unpooled.wrappedBuffer(bytes));
  }

  /** Reads what passed the handler, as bytes. */
  private byte[] passed() {
    return drain(channel::readInbound);
  }

  /** The bytes of the buffers in a queue of the channel, emptying it. */
  private static byte[] drain(Supplier<Object> queue) {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    for (Object o = queue.get(); o != null; o = queue.get()) {
      ByteBuf buf = (ByteBuf) o;
      byte[] bytes = new byte[buf.readableBytes()];
      buf.readBytes(bytes);
      buf.release();
      b.writeBytes(bytes);
    }
    return b.toByteArray();
  }

  private void advance(long millis) {
    channel.advanceTimeBy(millis, TimeUnit.MILLISECONDS);
    channel.runScheduledPendingTasks();
    channel.runPendingTasks();
  }

  private String scrape() {
    return new String(metrics.scrape(null).body(), StandardCharsets.UTF_8);
  }

  private void assertEndedWithGoAway() {
    Object out = channel.readOutbound();
    assertThat(out).isInstanceOf(Http2GoAwayFrame.class);
    Http2GoAwayFrame away = (Http2GoAwayFrame) out;
    assertThat(away.errorCode()).isEqualTo(Http2Error.ENHANCE_YOUR_CALM.code());
    assertThat(away.content().toString(StandardCharsets.US_ASCII)).contains("header timeout");
    away.release();
    assertThat(channel.isOpen()).isFalse();
    assertThat(deadline.state()).isEqualTo(H2HeadDeadline.State.EXPIRED);
    assertThat(scrape())
        .contains(
            "local_lambdas_rejected_requests_total{code=\"408\",reason=\"header-timeout\"} 1");
  }

  private void assertNothingWritten() {
    Object out = channel.readOutbound();
    assertThat(out).isNull();
  }

  private void assertStillOpen() {
    assertNothingWritten();
    assertThat(channel.isOpen()).isTrue();
  }

  // ------------------------------------------------------------------ the handler alone

  /** A connection's bytes: opening, a block in three frames, a body, a block in one frame. */
  private static final byte[] CONVERSATION =
      concat(
          OPENING,
          frame(HEADERS, 0, 1, 20),
          frame(CONTINUATION, 0, 1, 0),
          frame(CONTINUATION, END_HEADERS, 1, 7),
          frame(DATA, 0, 1, 30),
          frame(DATA, END_STREAM, 1, 0),
          frame(HEADERS, END_HEADERS | END_STREAM, 3, 12),
          frame(SETTINGS, 0x1, 0, 0));

  /** The state after each byte of {@link #CONVERSATION}, sent one byte at a time. */
  private List<H2HeadDeadline.State> byteByByte() {
    alone();
    List<H2HeadDeadline.State> states = new ArrayList<>();
    for (byte b : CONVERSATION) {
      send(new byte[] {b});
      states.add(deadline.state());
    }
    assertThat(passed()).isEqualTo(CONVERSATION);
    done();
    return states;
  }

  @Test
  void frameHeadersSplitAtEveryOffsetAreFollowedAlike() {
    List<H2HeadDeadline.State> expected = byteByByte();
    int blockStart = OPENING.length; // the first byte of the first HEADERS frame
    int blockEnd = OPENING.length + 29 + 9 + 16; // after the CONTINUATION with END_HEADERS
    assertThat(expected.get(OPENING.length - 2)).isEqualTo(H2HeadDeadline.State.OPENING);
    assertThat(expected.get(OPENING.length - 1)).isEqualTo(H2HeadDeadline.State.OUTSIDE);
    assertThat(expected.get(blockStart + 3))
        .as("the type byte starts the block")
        .isEqualTo(H2HeadDeadline.State.INSIDE);
    assertThat(expected.get(blockEnd - 2)).isEqualTo(H2HeadDeadline.State.INSIDE);
    assertThat(expected.get(blockEnd - 1)).isEqualTo(H2HeadDeadline.State.OUTSIDE);
    assertThat(expected.subList(blockEnd - 1, blockEnd - 1 + 39 + 9))
        .as("DATA frames never start a block")
        .containsOnly(H2HeadDeadline.State.OUTSIDE);
    assertThat(expected.getLast()).isEqualTo(H2HeadDeadline.State.OUTSIDE);
    for (int split = 1; split < CONVERSATION.length; split++) {
      alone();
      send(Arrays.copyOfRange(CONVERSATION, 0, split));
      assertThat(deadline.state()).as("split at %d", split).isEqualTo(expected.get(split - 1));
      send(Arrays.copyOfRange(CONVERSATION, split, CONVERSATION.length));
      assertThat(deadline.state()).as("split at %d", split).isEqualTo(H2HeadDeadline.State.OUTSIDE);
      assertThat(passed()).as("the bytes pass untouched").isEqualTo(CONVERSATION);
      advance(TIMEOUT.toMillis() * 2);
      assertStillOpen();
      done();
    }
  }

  @Test
  void aBlockOfHeadersAndContinuationsCompletingInTimeKeepsTheConnection() {
    alone();
    send(OPENING);
    send(frame(HEADERS, 0, 1, 10));
    advance(4000);
    send(frame(CONTINUATION, 0, 1, 10));
    advance(5999);
    send(frame(CONTINUATION, END_HEADERS, 1, 10));
    assertThat(deadline.state()).isEqualTo(H2HeadDeadline.State.OUTSIDE);
    advance(60_000);
    assertStillOpen();
    // The next block gets a whole timeout of its own.
    send(frame(HEADERS, 0, 3, 10));
    advance(9999);
    send(frame(CONTINUATION, END_HEADERS, 3, 10));
    advance(60_000);
    assertStillOpen();
  }

  @Test
  void aBlockTrickledPastTheTimeoutEndsTheConnectionWithGoAway() {
    alone();
    send(OPENING);
    send(frame(HEADERS, 0, 1, 10));
    for (int i = 0; i < 4; i++) {
      advance(2000);
      send(frame(CONTINUATION, 0, 1, 10)); // steady, but the block never ends
    }
    advance(1999);
    assertStillOpen();
    advance(1);
    assertEndedWithGoAway();
  }

  @Test
  void oneLargeHeadersFrameTrickledPastTheTimeoutEndsTheConnection() {
    alone();
    send(OPENING);
    byte[] headers = frame(HEADERS, END_HEADERS, 1, 100);
    send(Arrays.copyOfRange(headers, 0, 50));
    for (int i = 50; i < 59; i++) {
      advance(1000);
      send(new byte[] {headers[i]});
    }
    advance(1000);
    assertEndedWithGoAway();
  }

  @Test
  void theClockStartsWithTheFirstByteOfAHeadersFrameHeader() {
    alone();
    send(OPENING);
    byte[] headers = frame(HEADERS, 0, 1, 10);
    send(Arrays.copyOfRange(headers, 0, 2)); // type not known yet
    advance(6000);
    send(Arrays.copyOfRange(headers, 2, headers.length));
    advance(3999);
    assertStillOpen();
    advance(1);
    assertEndedWithGoAway();
  }

  @Test
  void dataFramesAndBodiesNeverStartTheClock() {
    alone();
    send(OPENING);
    send(frame(HEADERS, END_HEADERS, 1, 10));
    byte[] data = frame(DATA, 0, 1, 100);
    send(Arrays.copyOfRange(data, 0, 2)); // part of a frame header
    advance(30_000);
    send(Arrays.copyOfRange(data, 2, 20)); // the rest of it and part of the body
    advance(30_000);
    send(Arrays.copyOfRange(data, 20, data.length));
    advance(30_000);
    assertStillOpen();
    assertThat(deadline.state()).isEqualTo(H2HeadDeadline.State.OUTSIDE);
  }

  @Test
  void aPrefaceTrickledAndStalledEndsTheConnection() {
    alone();
    for (int i = 0; i < 10; i++) {
      send(new byte[] {PREFACE[i]});
      advance(500);
    }
    advance(4999);
    assertStillOpen();
    advance(1);
    assertEndedWithGoAway();
  }

  @Test
  void halfAFirstSettingsFrameStalledEndsTheConnection() {
    alone();
    send(Arrays.copyOfRange(OPENING, 0, PREFACE.length + 12));
    advance(9999);
    assertStillOpen();
    advance(1);
    assertEndedWithGoAway();
  }

  @Test
  void aSilentConnectionIsLeftToTheIdleTimeout() {
    alone();
    advance(60_000);
    assertStillOpen();
  }

  @Test
  void timeAlreadySpentOnThePrefaceCounts() {
    deadline = new H2HeadDeadline(TIMEOUT, Duration.ofSeconds(7), metrics);
    channel = new EmbeddedChannel();
    channel.freezeTime();
    channel.pipeline().addLast(deadline);
    send(PREFACE);
    advance(2999);
    assertStillOpen();
    advance(1);
    assertEndedWithGoAway();
  }

  // ------------------------------------------------------------------ in the front door

  private void frontDoor() {
    // A server's connection (it has a server channel as parent): Netty's multiplexer tells the
    // sides apart by that, and serves an h2c upgrade's stream 1 only on the server side.
    channel = EmbeddedChannel.builder().parent(new LocalServerChannel()).build();
    channel.freezeTime();
    FrontDoor.configure(
        channel.pipeline(),
        () -> RouteTable.<FunctionPool>builder().build(),
        null,
        null,
        TIMEOUT,
        metrics,
        TrustedProxies.NONE);
    channel.pipeline().fireChannelActive();
  }

  /** The frames written to the client (their types and payloads), consuming the output. */
  private List<byte[]> framesOut() {
    byte[] all = drain(channel::readOutbound);
    List<byte[]> frames = new ArrayList<>();
    int i = 0;
    if (new String(all, StandardCharsets.US_ASCII).startsWith("HTTP/1.1 101")) {
      i = new String(all, StandardCharsets.US_ASCII).indexOf("\r\n\r\n") + 4;
    }
    while (i + 9 <= all.length) {
      int n = (all[i] & 0xff) << 16 | (all[i + 1] & 0xff) << 8 | (all[i + 2] & 0xff);
      frames.add(Arrays.copyOfRange(all, i + 3, i + 9 + n)); // type, flags, stream, payload
      i += 9 + n;
    }
    return frames;
  }

  private static int goAwayError(List<byte[]> frames) {
    for (byte[] f : frames) {
      if (f[0] == GOAWAY) {
        return (f[10] & 0xff) << 24 | (f[11] & 0xff) << 16 | (f[12] & 0xff) << 8 | (f[13] & 0xff);
      }
    }
    return -1;
  }

  private List<String> names() {
    return channel.pipeline().names();
  }

  @Test
  void priorKnowledgeGetsTheDeadlineJustBeforeTheCodec() {
    frontDoor();
    send(OPENING);
    List<String> names = names();
    assertThat(names.indexOf(H2HeadDeadline.NAME)).isEqualTo(names.indexOf("h2") - 1);
    assertThat(names).doesNotContain("head-start");
    framesOut();
    send(frame(HEADERS, 0, 1, 0));
    advance(9999);
    assertThat(channel.isOpen()).isTrue();
    advance(1);
    List<byte[]> out = framesOut();
    assertThat(goAwayError(out)).isEqualTo((int) Http2Error.ENHANCE_YOUR_CALM.code());
    assertThat(channel.isOpen()).isFalse();
  }

  @Test
  void aPrefaceTakingMostOfTheTimeoutLeavesOnlyTheRestForTheFirstSettings() {
    frontDoor();
    send(Arrays.copyOfRange(PREFACE, 0, 10)); // the HTTP/1.1 head deadline times these
    advance(7000);
    send(Arrays.copyOfRange(OPENING, 10, PREFACE.length + 4));
    assertThat(names()).contains(H2HeadDeadline.NAME);
    advance(2999);
    assertThat(channel.isOpen()).isTrue();
    advance(1);
    assertThat(goAwayError(framesOut())).isEqualTo((int) Http2Error.ENHANCE_YOUR_CALM.code());
    assertThat(channel.isOpen()).isFalse();
  }

  @Test
  void halfAPrefaceStalledGets408LikeAnyUnfinishedHead() {
    frontDoor();
    send(Arrays.copyOfRange(PREFACE, 0, 16));
    advance(9999);
    assertNothingWritten();
    advance(1);
    ByteBuf out = channel.readOutbound();
    assertThat(out.toString(StandardCharsets.US_ASCII)).startsWith("HTTP/1.1 408");
    out.release();
    assertThat(scrape())
        .contains(
            "local_lambdas_rejected_requests_total{code=\"408\",reason=\"header-timeout\"} 1");
  }

  @Test
  void anH2cUpgradeGetsTheDeadlineJustBeforeTheCodec() {
    frontDoor();
    send(
        """
        GET /x HTTP/1.1\r
        Host: h\r
        Connection: Upgrade, HTTP2-Settings\r
        Upgrade: h2c\r
        HTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r
        \r
        """
            .getBytes(StandardCharsets.US_ASCII));
    channel.runPendingTasks();
    List<String> names = names();
    assertThat(names).contains(H2HeadDeadline.NAME).doesNotContain("head-start", "decoder");
    int at = names.indexOf(H2HeadDeadline.NAME);
    assertThat(channel.pipeline().get(names.get(at + 1)))
        .isInstanceOf(io.netty.handler.codec.http2.Http2FrameCodec.class);
    assertThat(framesOut()).extracting(f -> (int) f[0]).contains(SETTINGS, HEADERS);
    assertThat(channel.isOpen()).as("open after the upgrade").isTrue();
    send(Arrays.copyOfRange(PREFACE, 0, 5)); // the client's preface follows the 101
    assertThat(channel.isOpen()).as("open after part of the preface").isTrue();
    advance(9999);
    assertThat(channel.isOpen()).isTrue();
    advance(1);
    assertThat(goAwayError(framesOut())).isEqualTo((int) Http2Error.ENHANCE_YOUR_CALM.code());
    assertThat(channel.isOpen()).isFalse();
  }
}
