package dev.locallambdas.transport.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.locallambdas.transport.Outcome;
import dev.locallambdas.transport.TransportException.Kind;
import java.util.Arrays;
import java.util.Random;
import java.util.function.IntUnaryOperator;

/**
 * A child's response under arbitrary bytes, through everything that reads it (Netty's decoder made
 * strict, the head checks, the exchange): the call either ends with a response whose body matches
 * its framing, or fails with PROTOCOL (or CHILD_FAILED when the child closes before the answer is
 * complete); nothing else escapes into the pipeline, nothing leaks, and the outcome is the same
 * however the bytes are split into reads (whole, byte by byte, at random places). The first input
 * byte picks GET or HEAD. Runs the checked-in corpus in CI; {@code JAZZER_FUZZ=1} fuzzes.
 */
class ResponseDecodingFuzzTest {
  private static final int MAX_INPUT = 96 * 1024;

  @FuzzTest(maxDuration = "30s")
  void decodesOrRefusesTheSameHoweverItIsSplit(byte[] input) {
    if (input.length == 0) {
      return;
    }
    boolean head = (input[0] & 1) != 0;
    byte[] response = Arrays.copyOfRange(input, 1, Math.min(input.length, MAX_INPUT));
    String whole = run(head, response, remaining -> remaining);
    // Byte by byte is slow for big inputs; small pieces split every line all the same.
    int small = response.length <= 8192 ? 1 : 7;
    assertThat(run(head, response, remaining -> small)).isEqualTo(whole);
    Random random = new Random(Arrays.hashCode(input));
    assertThat(run(head, response, remaining -> 1 + random.nextInt(remaining))).isEqualTo(whole);
  }

  /** Plays {@code response} in pieces of {@code pieceSize.applyAsInt(bytes left)}, then closes. */
  private static String run(boolean head, byte[] response, IntUnaryOperator pieceSize) {
    InMemoryChild child = new InMemoryChild();
    Transcript t = child.open(head ? Fixture.request("HEAD", "/x", 0) : Fixture.get("/x"));
    child.sent();
    for (int at = 0; at < response.length; ) {
      int n = Math.min(pieceSize.applyAsInt(response.length - at), response.length - at);
      child.answer(Arrays.copyOfRange(response, at, at + n));
      at += n;
    }
    child.close(); // ends a body read until close, or cuts off an answer
    child.finish(); // rethrows whatever reached the end of the pipeline

    assertThat(t.violations).isEmpty();
    if (t.failure != null) {
      assertThat(t.failure.kind()).isIn(Kind.PROTOCOL, Kind.CHILD_FAILED);
      assertThat(t.released).isEqualTo(Outcome.BROKEN);
    } else {
      assertThat(t.ended).isTrue();
      assertThat(t.released).isEqualTo(Outcome.OK);
      assertThat(t.status).isBetween(200, 599);
      for (int i = 0; i < t.headers.size(); i++) {
        assertThat(t.headers.value(i)).doesNotContain("\r").doesNotContain("\n");
      }
      if (head || t.status == 204 || t.status == 304) {
        assertThat(t.body.size()).isZero();
      } else if (t.contentLength >= 0) {
        assertThat((long) t.body.size()).isEqualTo(t.contentLength);
      }
    }
    return t.summary();
  }
}
