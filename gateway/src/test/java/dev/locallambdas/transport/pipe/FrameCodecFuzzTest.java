package dev.locallambdas.transport.pipe;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.ByteBuffer;

/**
 * The pipe frame decoder and its payload decoders under arbitrary bytes, as a hostile child sends
 * them: every violation is a {@link FrameException}, nothing else escapes; {@code decode} consumes
 * nothing while a frame is incomplete and exactly one frame otherwise; a request head that decodes
 * re-encodes to the same head. The first input byte picks a heap or a direct buffer (the UTF-8
 * check has a path for each). Runs the checked-in corpus in CI; {@code JAZZER_FUZZ=1} fuzzes.
 */
class FrameCodecFuzzTest {
  @FuzzTest(maxDuration = "30s")
  void decodesFramesOrRefusesThemWithFrameException(byte[] input) throws FrameException {
    if (input.length == 0) {
      return;
    }
    ByteBuffer in;
    if ((input[0] & 1) == 0) {
      in = ByteBuffer.wrap(input, 1, input.length - 1).slice();
    } else {
      in = ByteBuffer.allocateDirect(input.length - 1).put(input, 1, input.length - 1).flip();
    }
    while (true) {
      int before = in.position();
      Frame frame;
      try {
        frame = FrameCodec.decode(in);
      } catch (FrameException expected) {
        assertThat(in.position()).as("a refused frame consumes nothing").isEqualTo(before);
        return;
      }
      if (frame == null) {
        assertThat(in.position()).as("an incomplete frame consumes nothing").isEqualTo(before);
        return;
      }
      assertThat(in.position() - before)
          .isEqualTo(FrameCodec.HEADER_SIZE + frame.payload().readableBytes());
      try {
        decodePayload(frame);
      } catch (FrameException expected) {
        // A bad payload ends the connection; the next frame would never be read.
        return;
      }
    }
  }

  private static void decodePayload(Frame frame) throws FrameException {
    ByteBuffer payload = frame.payload().nioBuffer();
    switch (frame.type()) {
      case FrameCodec.HELLO -> {
        FrameCodec.Hello h = FrameCodec.decodeHello(payload);
        assertThat(h.minVersion()).isLessThanOrEqualTo(h.maxVersion());
      }
      case FrameCodec.WELCOME -> FrameCodec.decodeWelcome(payload);
      case FrameCodec.REQUEST_HEAD -> {
        FrameCodec.RequestHead head = FrameCodec.decodeRequestHead(payload);
        // Lower-casing a non-ASCII name can lengthen it: leave room.
        ByteBuffer out =
            ByteBuffer.allocate(3 * frame.payload().readableBytes() + FrameCodec.HEADER_SIZE);
        FrameCodec.putRequestHead(
            out, frame.stream(), frame.endStream(), head.method(), head.target(), head.headers());
        Frame again = FrameCodec.decode(out.flip());
        FrameCodec.RequestHead reread = FrameCodec.decodeRequestHead(again.payload().nioBuffer());
        assertThat(reread.method()).isEqualTo(head.method());
        assertThat(reread.target()).isEqualTo(head.target());
        assertThat(reread.headers().toString()).isEqualTo(head.headers().toString());
      }
      case FrameCodec.RESPONSE_HEAD -> {
        FrameCodec.ResponseHead head = FrameCodec.decodeResponseHead(payload);
        assertThat(head.status()).isBetween(102, 599).isNotEqualTo(101);
        for (int i = 0; i < head.headers().size(); i++) {
          String value = head.headers().value(i);
          assertThat(value).doesNotContain("\r").doesNotContain("\n").doesNotContain("\0");
          assertThat(dev.locallambdas.exchange.HttpSyntax.isHopByHop(head.headers().name(i)))
              .isFalse();
        }
      }
      case FrameCodec.RESET -> FrameCodec.decodeReset(payload);
      case FrameCodec.CREDIT -> FrameCodec.decodeCredit(payload);
      default -> {
        // Body frames carry opaque bytes.
      }
    }
  }
}
