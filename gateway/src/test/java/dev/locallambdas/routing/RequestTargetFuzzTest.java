package dev.locallambdas.routing;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.charset.StandardCharsets;

/**
 * The path canonicaliser under arbitrary input: it either refuses a target with {@link
 * BadTargetException} or returns a canonical form that is a fixed point (parsing it again returns
 * it unchanged) and that never climbs out of the root. Runs the checked-in corpus in CI (regression
 * mode); {@code JAZZER_FUZZ=1} fuzzes (bench/fuzz.sh).
 */
class RequestTargetFuzzTest {
  @FuzzTest(maxDuration = "30s")
  void parseRefusesOrReturnsAFixedPoint(byte[] input) throws BadTargetException {
    // Netty hands the front door ISO-8859-1 text: one char per byte, as here.
    String raw = new String(input, StandardCharsets.ISO_8859_1);
    RequestTarget target;
    try {
      target = RequestTarget.parse(raw);
    } catch (BadTargetException expected) {
      return;
    }
    String path = target.path();
    assertThat(path).startsWith("/");
    assertThat(path).doesNotContain("//").doesNotContain("\\");
    assertThat(("/" + path + "/").contains("/../")).as("dot-segment left in %s", path).isFalse();
    assertThat(("/" + path + "/").contains("/./")).as("dot-segment left in %s", path).isFalse();
    RequestTarget again = RequestTarget.parse(target.toString());
    assertThat(again).isEqualTo(target);
    assertThat(again.path()).isEqualTo(path);
  }
}
