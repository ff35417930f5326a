package dev.locallambdas.transport.pipe;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.locallambdas.exchange.Headers;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class FrameCodecTest {

  // ---------------------------------------------------------------- byte builders

  static byte[] u16(int v) {
    return new byte[] {(byte) (v >> 8), (byte) v};
  }

  static byte[] u32(long v) {
    return new byte[] {(byte) (v >> 24), (byte) (v >> 16), (byte) (v >> 8), (byte) v};
  }

  static byte[] raw(int... bytes) {
    byte[] b = new byte[bytes.length];
    for (int i = 0; i < bytes.length; i++) {
      b[i] = (byte) bytes[i];
    }
    return b;
  }

  static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  static byte[] str16(String s) {
    return cat(u16(utf8(s).length), utf8(s));
  }

  static byte[] str32(String s) {
    return cat(u32(utf8(s).length), utf8(s));
  }

  static byte[] cat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] p : parts) {
      out.writeBytes(p);
    }
    return out.toByteArray();
  }

  static byte[] header(long length, int type, int flags, long stream) {
    return cat(u32(length), raw(type, flags), u32(stream));
  }

  // ---------------------------------------------------------------- frame level

  static Stream<Arguments> badHeaders() {
    return Stream.of(
        Arguments.of(
            "length 1 MiB + 1", header(1048577, 0x21, 0, 1), "exceeds the maximum payload"),
        Arguments.of("length 4 GiB - 1", header(0xFFFFFFFFL, 0x21, 0, 1), "exceeds the maximum"),
        Arguments.of("unknown type", header(0, 0x45, 0, 1), "unknown frame type 0x45"),
        Arguments.of("type 0", header(0, 0x00, 0, 0), "unknown frame type 0x00"),
        Arguments.of("reserved flag", header(0, 0x21, 0x02, 1), "reserved flag bits 0x02"),
        Arguments.of("all flags", header(0, 0x21, 0xFF, 1), "reserved flag bits 0xfe"),
        Arguments.of("HELLO on a stream", header(0, 0x01, 0, 5), "HELLO on stream 5"),
        Arguments.of("WELCOME on a stream", header(0, 0x02, 0, 0xFFFFFFFFL), "stream 4294967295"),
        Arguments.of("head on stream 0", header(0, 0x20, 0, 0), "RESPONSE_HEAD on stream 0"),
        Arguments.of("body on stream 0", header(0, 0x11, 1, 0), "REQUEST_BODY on stream 0"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("badHeaders")
  void rejectsBadHeaderAsSoonAsItIsComplete(String name, byte[] bytes, String message) {
    // No payload follows: the header alone must be refused, without waiting for (or allocating) it.
    assertThatThrownBy(() -> FrameCodec.decode(ByteBuffer.wrap(bytes)))
        .isInstanceOf(FrameException.class)
        .hasMessageContaining(message);
  }

  static Stream<Arguments> incomplete() {
    return Stream.of(
        Arguments.of("nothing", new byte[0]),
        Arguments.of("nine header bytes", raw(0, 0, 0, 5, 0x21, 0, 0, 0, 0)),
        Arguments.of("header only", header(5, 0x21, 0, 1)),
        Arguments.of("payload short by one", cat(header(5, 0x21, 0, 1), utf8("abcd"))));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("incomplete")
  void waitsForAWholeFrame(String name, byte[] bytes) throws Exception {
    ByteBuffer in = ByteBuffer.wrap(bytes);
    assertThat(FrameCodec.decode(in)).isNull();
    assertThat(in.position()).isZero();
  }

  @Test
  void decodesOneFrameAndLeavesTheRest() throws Exception {
    ByteBuffer in =
        ByteBuffer.wrap(cat(header(3, 0x21, 1, 7), utf8("abc"), header(0, 0x30, 0, 0), raw(1, 2)));
    Frame first = FrameCodec.decode(in);
    assertThat(first.type()).isEqualTo(FrameCodec.RESPONSE_BODY);
    assertThat(first.stream()).isEqualTo(7);
    assertThat(first.endStream()).isTrue();
    assertThat(first.payload().nioBuffer()).isEqualTo(ByteBuffer.wrap(utf8("abc")));
    Frame second = FrameCodec.decode(in);
    assertThat(second.type()).isEqualTo(FrameCodec.RESET);
    assertThat(second.payload().readableBytes()).isZero();
    assertThat(in.remaining()).isEqualTo(2);
  }

  @Test
  void acceptsTheLargestPayload() throws Exception {
    ByteBuffer in = ByteBuffer.allocate(10 + FrameCodec.MAX_PAYLOAD);
    in.put(header(FrameCodec.MAX_PAYLOAD, 0x21, 0, 1)).position(0);
    assertThat(FrameCodec.decode(in).payload().readableBytes()).isEqualTo(FrameCodec.MAX_PAYLOAD);
  }

  // ---------------------------------------------------------------- RESPONSE_HEAD

  static byte[] head(int status, byte[]... headers) {
    return cat(u16(status), u16(headers.length), cat(headers));
  }

  static byte[] field(String name, String value) {
    return cat(str16(name), str32(value));
  }

  static Stream<Arguments> badResponseHeads() {
    return Stream.of(
        Arguments.of("empty payload", new byte[0], "truncated RESPONSE_HEAD status"),
        Arguments.of("one status byte", raw(0), "truncated RESPONSE_HEAD status"),
        Arguments.of("status 0", head(0), "invalid response status 0"),
        Arguments.of("status 100", head(100), "invalid response status 100"),
        Arguments.of("status 101", head(101), "invalid response status 101"),
        Arguments.of("status 600", head(600), "invalid response status 600"),
        Arguments.of("status 65535", head(65535), "invalid response status 65535"),
        Arguments.of("no header count", u16(200), "truncated RESPONSE_HEAD header count"),
        Arguments.of("count beyond payload", cat(u16(200), u16(65535)), "declares 65535 headers"),
        Arguments.of(
            "count beyond entries",
            cat(u16(200), u16(2), field("a", "b")),
            "declares 2 headers but only 8 bytes"),
        Arguments.of(
            "name longer than payload",
            cat(u16(200), u16(1), u16(50), utf8("abcdefgh")),
            "truncated header name"),
        Arguments.of(
            "value length 4 GiB",
            cat(u16(200), u16(1), str16("a"), u32(0xFFFFFFFFL), utf8("xy")),
            "truncated header value: needs 4294967295 bytes"),
        Arguments.of("empty name", head(200, field("", "x")), "empty header name"),
        Arguments.of("space in name", head(200, field("x y", "1")), "is not an HTTP token"),
        Arguments.of("colon in name", head(200, field("x:", "1")), "is not an HTTP token"),
        Arguments.of("non-ASCII name", head(200, field("é", "1")), "is not an HTTP token"),
        Arguments.of("CR in value", head(200, field("x", "a\rb")), "control character 0x0d"),
        Arguments.of("LF in value", head(200, field("x", "a\nb")), "control character 0x0a"),
        Arguments.of("NUL in value", head(200, field("x", "a\0b")), "control character 0x00"),
        Arguments.of("DEL in value", head(200, field("x", "a\u007fb")), "control character 0x7f"),
        Arguments.of(
            "bad UTF-8 value",
            cat(u16(200), u16(1), str16("x"), u32(2), raw(0xC3, 0x28)),
            "not valid UTF-8"),
        Arguments.of(
            "trailing bytes", cat(head(204, field("x", "1")), raw(0)), "1 unexpected bytes"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("badResponseHeads")
  void rejectsBadResponseHead(String name, byte[] payload, String message) {
    assertThatThrownBy(() -> FrameCodec.decodeResponseHead(ByteBuffer.wrap(payload)))
        .isInstanceOf(FrameException.class)
        .hasMessageContaining(message);
  }

  @Test
  void responseHeadLowersNamesKeepsValuesAndDropsFramingFields() throws Exception {
    byte[] payload =
        head(
            599,
            field("Content-Type", "text/plain; charset=utf-8"),
            field("content-length", "5"),
            field("Transfer-Encoding", "chunked"),
            field("connection", "close"),
            field("keep-alive", "timeout=5"),
            field("proxy-connection", "x"),
            field("te", "trailers"),
            field("trailer", "x"),
            field("upgrade", "h2c"),
            field("set-cookie", "a=1"),
            field("set-cookie", "b=2"),
            field("x-tab", "a\tb é"));
    FrameCodec.ResponseHead h = FrameCodec.decodeResponseHead(ByteBuffer.wrap(payload));
    assertThat(h.status()).isEqualTo(599);
    assertThat(h.headers().toString())
        .isEqualTo(
            "Headers[content-type: text/plain; charset=utf-8, set-cookie: a=1, set-cookie: b=2,"
                + " x-tab: a\tb é]");
  }

  @Test
  void acceptsTheStatusBoundaries() throws Exception {
    assertThat(FrameCodec.decodeResponseHead(ByteBuffer.wrap(head(102))).status()).isEqualTo(102);
    assertThat(FrameCodec.decodeResponseHead(ByteBuffer.wrap(head(599))).status()).isEqualTo(599);
  }

  // ---------------------------------------------------------------- HELLO and the others

  static Stream<Arguments> badHellos() {
    return Stream.of(
        Arguments.of("empty", new byte[0], "truncated HELLO min_version"),
        Arguments.of("no pid", cat(u16(1), u16(1)), "truncated HELLO pid"),
        Arguments.of("no sdk", cat(u16(1), u16(1), u32(42)), "truncated HELLO sdk length"),
        Arguments.of(
            "sdk cut short",
            cat(u16(1), u16(1), u32(42), u16(10), utf8("py")),
            "truncated HELLO sdk"),
        Arguments.of("min above max", cat(u16(3), u16(2), u32(1), str16("x")), "above max_version"),
        Arguments.of("trailing", cat(u16(1), u16(1), u32(1), str16("x"), raw(9)), "unexpected"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("badHellos")
  void rejectsBadHello(String name, byte[] payload, String message) {
    assertThatThrownBy(() -> FrameCodec.decodeHello(ByteBuffer.wrap(payload)))
        .isInstanceOf(FrameException.class)
        .hasMessageContaining(message);
  }

  @Test
  void decodesAHelloWrittenByHand() throws Exception {
    FrameCodec.Hello h =
        FrameCodec.decodeHello(
            ByteBuffer.wrap(cat(u16(1), u16(1), u32(0xFFFFFFFEL), str16("python/1.0"))));
    assertThat(h).isEqualTo(new FrameCodec.Hello(1, 1, 0xFFFFFFFEL, "python/1.0"));
  }

  @Test
  void aHelloMayCarryCapabilitiesAfterTheSdkName() throws Exception {
    FrameCodec.Hello with =
        FrameCodec.decodeHello(
            ByteBuffer.wrap(cat(u16(1), u16(2), u32(7), str16("python/1.1"), u32(1))));
    assertThat(with).isEqualTo(new FrameCodec.Hello(1, 2, 7, "python/1.1", 1));
    FrameCodec.Hello without =
        FrameCodec.decodeHello(ByteBuffer.wrap(cat(u16(1), u16(2), u32(7), str16("python/1.1"))));
    assertThat(without.capabilities()).isZero();
    assertThatThrownBy(
            () ->
                FrameCodec.decodeHello(
                    ByteBuffer.wrap(cat(u16(1), u16(2), u32(7), str16("x"), new byte[3]))))
        .isInstanceOf(FrameException.class)
        .hasMessageContaining("unexpected bytes after the HELLO");
  }

  @Test
  void encodesFramesExactlyAsSpecified() {
    ByteBuffer out = ByteBuffer.allocate(256);
    FrameCodec.putWelcome(out, 1, 4, FrameCodec.MAX_PAYLOAD, "echo");
    assertThat(bytes(out))
        .isEqualTo(cat(header(14, 0x02, 0, 0), u16(1), u16(4), u32(1048576), str16("echo")));

    out.clear();
    FrameCodec.putRequestHead(
        out, 7, true, "GET", "/a?b=1", Headers.builder().add("Host", "h").add("x", "é").build());
    byte[] payload =
        cat(str16("GET"), str32("/a?b=1"), u16(2), field("host", "h"), field("x", "é"));
    assertThat(bytes(out)).isEqualTo(cat(header(payload.length, 0x10, 1, 7), payload));

    out.clear();
    FrameCodec.putBody(out, FrameCodec.REQUEST_BODY, 9, false, ByteBuffer.wrap(utf8("hello")), 4);
    assertThat(bytes(out)).isEqualTo(cat(header(4, 0x11, 0, 9), utf8("hell")));

    out.clear();
    FrameCodec.putReset(out, 3, "gone");
    assertThat(bytes(out)).isEqualTo(cat(header(4, 0x30, 0, 3), utf8("gone")));
  }

  @Test
  void roundTripsEveryPayload() throws Exception {
    ByteBuffer out = ByteBuffer.allocate(1024);
    FrameCodec.putHello(out, 1, 1, 1234, "java/1 \uD83D\uDE00");
    FrameCodec.putWelcome(out, 1, 65535, FrameCodec.MAX_PAYLOAD, "fn.x");
    Headers headers = Headers.builder().add("a", "1").add("a", "2").add("b", "").build();
    FrameCodec.putRequestHead(out, 0x7FFFFFFF, false, "POST", "/p?q=\u00e9", headers);
    FrameCodec.putResponseHead(out, 2, true, 201, headers);
    out.flip();
    assertThat(FrameCodec.decodeHello(FrameCodec.decode(out).payload().nioBuffer()))
        .isEqualTo(new FrameCodec.Hello(1, 1, 1234, "java/1 \uD83D\uDE00"));
    assertThat(FrameCodec.decodeWelcome(FrameCodec.decode(out).payload().nioBuffer()))
        .isEqualTo(new FrameCodec.Welcome(1, 65535, FrameCodec.MAX_PAYLOAD, "fn.x"));
    Frame req = FrameCodec.decode(out);
    assertThat(req.stream()).isEqualTo(0x7FFFFFFF);
    FrameCodec.RequestHead rh = FrameCodec.decodeRequestHead(req.payload().nioBuffer());
    assertThat(rh.method()).isEqualTo("POST");
    assertThat(rh.target()).isEqualTo("/p?q=\u00e9");
    assertThat(rh.headers().toString()).isEqualTo(headers.toString());
    Frame resp = FrameCodec.decode(out);
    assertThat(resp.endStream()).isTrue();
    FrameCodec.ResponseHead h = FrameCodec.decodeResponseHead(resp.payload().nioBuffer());
    assertThat(h.status()).isEqualTo(201);
    assertThat(h.headers().toString()).isEqualTo(headers.toString());
    assertThat(out.hasRemaining()).isFalse();
  }

  @Test
  void encoderRefusesWhatTheProtocolCannotCarry() {
    ByteBuffer out = ByteBuffer.allocate(10 + FrameCodec.MAX_PAYLOAD + 100);
    assertThatThrownBy(() -> FrameCodec.putHello(out, 1, 1, 1, "x".repeat(70_000)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("str16");
    out.clear();
    assertThatThrownBy(
            () ->
                FrameCodec.putRequestHead(
                    out, 1, true, "GET", "/" + "x".repeat(FrameCodec.MAX_PAYLOAD), Headers.empty()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("exceeds");
  }

  /**
   * A poor man's fuzzer until Jazzer arrives: random and mutated inputs may only ever decode or
   * fail with FrameException.
   */
  @Test
  void hostileInputsOnlyEverFailWithFrameException() {
    Random random = new Random(20240601);
    ByteBuffer valid = ByteBuffer.allocate(512);
    FrameCodec.putResponseHead(
        valid, 1, false, 200, Headers.builder().add("content-type", "text/plain").build());
    FrameCodec.putHello(valid, 1, 1, 1, "sdk");
    byte[] seed = bytes(valid);
    for (int i = 0; i < 5_000; i++) {
      byte[] input;
      if (i % 2 == 0) {
        input = new byte[random.nextInt(64)];
        random.nextBytes(input);
      } else {
        input = seed.clone();
        for (int m = random.nextInt(4); m >= 0; m--) {
          input[random.nextInt(input.length)] = (byte) random.nextInt(256);
        }
        input = java.util.Arrays.copyOf(input, random.nextInt(input.length + 1));
      }
      decodeEverything(input);
    }
  }

  private static void decodeEverything(byte[] input) {
    ByteBuffer in = ByteBuffer.wrap(input);
    try {
      while (FrameCodec.decode(in) != null) {
        // keep going
      }
    } catch (FrameException expected) {
      // fine
    }
    for (int which = 0; which < 4; which++) {
      ByteBuffer p = ByteBuffer.wrap(input);
      try {
        switch (which) {
          case 0 -> FrameCodec.decodeHello(p);
          case 1 -> FrameCodec.decodeWelcome(p);
          case 2 -> FrameCodec.decodeRequestHead(p);
          default -> FrameCodec.decodeResponseHead(p);
        }
      } catch (FrameException expected) {
        // fine
      }
    }
    FrameCodec.decodeReset(ByteBuffer.wrap(input));
  }

  @Test
  void decodesFromDirectBuffers() throws Exception {
    byte[] payload = head(200, field("x", "é"));
    ByteBuffer direct = ByteBuffer.allocateDirect(payload.length).put(payload).flip();
    assertThat(FrameCodec.decodeResponseHead(direct).headers().get("x")).isEqualTo("é");
  }

  /** What an encoder wrote: the bytes before the position. */
  private static byte[] bytes(ByteBuffer written) {
    byte[] out = new byte[written.position()];
    written.get(0, out);
    return out;
  }
}
