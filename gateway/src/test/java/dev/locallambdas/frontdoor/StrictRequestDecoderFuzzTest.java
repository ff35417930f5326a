package dev.locallambdas.frontdoor;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The front door's request decoder (Netty's HttpRequestDecoder with the front door's strict
 * settings, plus {@link StrictRequestDecoder}) under arbitrary bytes from a client, in an
 * EmbeddedChannel:
 *
 * <ul>
 *   <li>no exception escapes the pipeline: every input ends in decoded requests, a request marked
 *       as failed (the front door answers 400/431/414 and closes), or an incomplete request;
 *   <li>a request that decodes successfully has a token method, a target without spaces or
 *       controls, and a version HTTP/DIGIT.DIGIT (the front door answers 505 to a major version
 *       other than 1);
 *   <li>the outcome does not depend on how the bytes are split into reads (the first input byte
 *       picks a read size): a parser whose verdict changes with TCP segmentation is how requests
 *       are smuggled;
 * </ul>
 *
 * <p>After a failed request the front door answers and closes, so what Netty decodes after it is
 * never acted on and is not compared.
 *
 * <p>Runs the checked-in corpus in CI; {@code JAZZER_FUZZ=1} fuzzes (bench/fuzz.sh).
 */
class StrictRequestDecoderFuzzTest {
  private static final int MAX_INPUT = 64 * 1024;

  /** The decoder settings of {@link FrontDoor#start}. */
  private static HttpDecoderConfig config() {
    return new HttpDecoderConfig()
        .setMaxInitialLineLength(FrontDoor.MAX_INITIAL_LINE)
        .setMaxHeaderSize(FrontDoor.MAX_HEADER_SIZE)
        .setMaxChunkSize(64 * 1024)
        .setValidateHeaders(true)
        .setAllowDuplicateContentLengths(false)
        .setStrictLineParsing(true)
        .setUseRfc9112TransferEncoding(true);
  }

  @FuzzTest(maxDuration = "30s")
  void decodesOrFailsTheSameWayHoweverTheBytesArrive(byte[] input) {
    if (input.length == 0) {
      return;
    }
    int readSize = 1 + (input[0] & 0x1F);
    byte[] bytes = Arrays.copyOfRange(input, 1, Math.min(input.length, MAX_INPUT));
    List<String> whole = decode(bytes, bytes.length == 0 ? 1 : bytes.length);
    List<String> split = decode(bytes, readSize);
    assertThat(split).as("decoded in reads of %d bytes", readSize).isEqualTo(whole);
  }

  /**
   * Decodes {@code bytes} fed in reads of {@code readSize}, then ends the input; describes what
   * came out.
   */
  private static List<String> decode(byte[] bytes, int readSize) {
    EmbeddedChannel channel = new EmbeddedChannel(new StrictRequestDecoder(config()));
    Outcome outcome = new Outcome();
    try {
      for (int off = 0; off < bytes.length; off += readSize) {
        int n = Math.min(readSize, bytes.length - off);
        channel.writeInbound(Unpooled.wrappedBuffer(bytes, off, n));
        outcome.take(channel);
      }
      channel.finish();
      outcome.take(channel);
    } finally {
      channel.finishAndReleaseAll();
    }
    return outcome.flush();
  }

  /** What the decoder produced, with body bytes joined (their split into contents may differ). */
  private static final class Outcome {
    private final List<String> events = new ArrayList<>();
    private final StringBuilder body = new StringBuilder();
    private boolean failed;

    void take(EmbeddedChannel channel) {
      for (Object msg = channel.readInbound(); msg != null; msg = channel.readInbound()) {
        try {
          describe(msg);
        } finally {
          ReferenceCountUtil.release(msg);
        }
      }
    }

    private void describe(Object msg) {
      if (failed) {
        return;
      }
      if (msg instanceof HttpRequest request) {
        flushBody();
        DecoderResult result = request.decoderResult();
        if (result.isSuccess()) {
          checkValid(request);
          events.add(
              "request "
                  + request.method()
                  + " "
                  + request.uri()
                  + " "
                  + request.protocolVersion()
                  + " "
                  + request.headers().entries());
        } else {
          events.add("failed request: " + result.cause().getClass().getSimpleName());
          failed = true;
        }
      }
      if (msg instanceof HttpContent content) {
        ByteBuf data = content.content();
        body.append(ByteBufUtil.hexDump(data));
        if (content.decoderResult().isFailure()) {
          flushBody();
          events.add(
              "failed content: " + content.decoderResult().cause().getClass().getSimpleName());
          failed = true;
        } else if (msg instanceof LastHttpContent last) {
          flushBody();
          events.add("end " + last.trailingHeaders().entries());
        }
      }
    }

    private static void checkValid(HttpRequest request) {
      String method = request.method().name();
      assertThat(method).isNotEmpty().matches("[!#$%&'*+.^_`|~0-9A-Za-z-]+");
      assertThat(request.uri()).isNotEmpty().doesNotContainPattern("[\\x00-\\x20\\x7f]");
      assertThat(request.protocolVersion().text()).matches("HTTP/[0-9]\\.[0-9]");
      request
          .headers()
          .forEach(
              e -> {
                assertThat(e.getKey()).isNotEmpty().doesNotContainPattern("[\\x00-\\x20\\x7f:]");
                assertThat(e.getValue()).doesNotContainPattern("[\\x00\\r\\n]");
              });
    }

    private void flushBody() {
      if (!body.isEmpty()) {
        events.add("body " + body);
        body.setLength(0);
      }
    }

    List<String> flush() {
      flushBody();
      return events;
    }
  }
}
