package dev.locallambdas.json;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JsonTest {
  private static Object parse(String s) throws Json.SyntaxException {
    return Json.parse(s.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  @SuppressWarnings("unchecked")
  void parsesEveryKindOfValue() throws Exception {
    Object v = parse(" {\"a\":[1,-2.5e3,true,false,null,\"x\"],\"b\":{}, \"c\":[]} ");
    assertThat(v).isInstanceOf(Map.class);
    Map<?, ?> m = (Map<?, ?>) v;
    assertThat((List<Object>) m.get("a")).containsExactly(1L, -2500.0, true, false, Json.NULL, "x");
    assertThat(m.get("b")).isEqualTo(Map.of());
    assertThat(m.get("c")).isEqualTo(List.of());
  }

  @Test
  void decodesEscapesAndSurrogatePairs() throws Exception {
    assertThat(parse("\"a\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00\""))
        .isEqualTo("a\"\\/\b\f\n\r\té\uD83D\uDE00");
    assertThat(parse("\"é😀\"")).isEqualTo("é😀");
  }

  @Test
  void rejectsInvalidInput() {
    for (String bad :
        List.of(
            "",
            "{",
            "{\"a\":1,}",
            "[1 2]",
            "01",
            "1.",
            "-",
            "1e",
            "\"\\ud83d\"",
            "\"\\ude00x\"",
            "\"\\x\"",
            "\"a\nb\"",
            "tru",
            "{} x",
            "{'a':1}",
            "[".repeat(Json.MAX_DEPTH + 1) + "]".repeat(Json.MAX_DEPTH + 1))) {
      assertThatThrownBy(() -> parse(bad)).as(bad).isInstanceOf(Json.SyntaxException.class);
    }
    assertThatThrownBy(() -> Json.parse(new byte[] {'"', (byte) 0xff, '"'}))
        .isInstanceOf(Json.SyntaxException.class)
        .hasMessageContaining("UTF-8");
  }

  @Test
  void acceptsNestingUpToTheLimit() throws Exception {
    String deep = "[".repeat(Json.MAX_DEPTH) + "]".repeat(Json.MAX_DEPTH);
    assertThat(parse(deep)).isInstanceOf(List.class);
  }

  @Test
  void writesAsciiThatReadsBack() throws Exception {
    String text = "quote\" back\\ nl\n tab\t nul\0 é 😀 \u2028";
    String json = Json.appendString(new StringBuilder(), text).toString();
    assertThat(json.chars().allMatch(c -> c >= 0x20 && c < 0x7f)).isTrue();
    assertThat(parse(json)).isEqualTo(text);
    assertThat(Json.write(Map.of("k", List.of(1L, "v")))).isEqualTo("{\"k\":[1,\"v\"]}");
  }
}
