package dev.locallambdas.transport.legacy;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.locallambdas.json.Json;
import dev.locallambdas.transport.TransportException;
import java.util.List;
import java.util.Map;

/**
 * The JSON reader of the original local_lambdas protocols, and the answer decoder on top of it,
 * under arbitrary bytes from a child: only {@link Json.SyntaxException} (or a {@link
 * TransportException} that leaves the instance in service, for an answer) comes out, nesting is
 * bounded, and what parses writes back to JSON that parses to the same value. Runs the checked-in
 * corpus in CI; {@code JAZZER_FUZZ=1} fuzzes.
 */
class JsonFuzzTest {
  @FuzzTest(maxDuration = "30s")
  void parsesOrRefusesWithSyntaxException(byte[] input) throws Json.SyntaxException {
    Object value;
    try {
      value = Json.parse(input);
    } catch (Json.SyntaxException expected) {
      return;
    }
    assertThat(depth(value)).isLessThanOrEqualTo(Json.MAX_DEPTH + 1);
    if (finite(value)) {
      String written = Json.write(value);
      assertThat(Json.write(Json.parse(written))).isEqualTo(written);
    }
  }

  @FuzzTest(maxDuration = "30s")
  void legacyAnswerDecodesOrIsRefusedWithoutBreakingTheInstance(byte[] input) {
    try {
      LegacyMessages.Answer answer =
          LegacyMessages.answer(input, "child 'fuzz'", new LegacyAnswerLog());
      assertThat(answer.status()).isBetween(200, 599);
    } catch (TransportException expected) {
      // An answer, however odd, is never a reason to replace the instance.
      assertThat(expected.kind().breaksInstance()).isFalse();
    }
  }

  private static int depth(Object value) {
    if (value instanceof Map<?, ?> m) {
      return 1 + m.values().stream().mapToInt(JsonFuzzTest::depth).max().orElse(0);
    }
    if (value instanceof List<?> l) {
      return 1 + l.stream().mapToInt(JsonFuzzTest::depth).max().orElse(0);
    }
    return 0;
  }

  /** Numbers beyond double's range parse as infinities, which JSON cannot write back. */
  private static boolean finite(Object value) {
    if (value instanceof Double d) {
      return !d.isInfinite() && !d.isNaN();
    }
    if (value instanceof Map<?, ?> m) {
      return m.values().stream().allMatch(JsonFuzzTest::finite);
    }
    if (value instanceof List<?> l) {
      return l.stream().allMatch(JsonFuzzTest::finite);
    }
    return true;
  }
}
