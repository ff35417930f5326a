package dev.locallambdas.manifest;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class DotEnvTest {
  static Stream<Arguments> valid() {
    return Stream.of(
        Arguments.of("plain", "A=1", Map.of("A", "1")),
        Arguments.of("empty value", "A=", Map.of("A", "")),
        Arguments.of("empty quoted", "A=\"\"\nB=''", Map.of("A", "", "B", "")),
        Arguments.of("export prefix", "export A=1", Map.of("A", "1")),
        Arguments.of("export as a name", "export=1", Map.of("export", "1")),
        Arguments.of("spaces around", "  A = hello world  ", Map.of("A", "hello world")),
        Arguments.of("comment line", "# c\nA=1\n  # indented", Map.of("A", "1")),
        Arguments.of("inline comment", "A=1 # one", Map.of("A", "1")),
        Arguments.of("hash in value", "A=a#b", Map.of("A", "a#b")),
        Arguments.of("hash first", "A=#b", Map.of("A", "#b")),
        Arguments.of("hash after blank is a comment", "A= #b", Map.of("A", "")),
        Arguments.of("equals in value", "A=x=y", Map.of("A", "x=y")),
        Arguments.of("single quotes literal", "A='a\\nb $x #c'", Map.of("A", "a\\nb $x #c")),
        Arguments.of("double quotes", "A=\"a b\"", Map.of("A", "a b")),
        Arguments.of(
            "double-quote escapes",
            "A=\"l1\\nl2\\t\\\"q\\\" \\\\ \\$ \\z\"",
            Map.of("A", "l1\nl2\t\"q\" \\ $ \\z")),
        Arguments.of("hash inside quotes", "A=\"a # b\" # c", Map.of("A", "a # b")),
        Arguments.of("multi-line double", "A=\"one\ntwo\"\nB=3", Map.of("A", "one\ntwo", "B", "3")),
        Arguments.of("multi-line single", "A='one\ntwo'", Map.of("A", "one\ntwo")),
        Arguments.of("CRLF", "A=1\r\nB=\"x\r\ny\"\r\n", Map.of("A", "1", "B", "x\ny")),
        Arguments.of("byte order mark", "\uFEFFA=1", Map.of("A", "1")),
        Arguments.of("no final newline", "A=1\nB=2", Map.of("A", "1", "B", "2")),
        Arguments.of("last wins", "A=1\nA=2", Map.of("A", "2")),
        Arguments.of("unicode", "A=héllo ☃", Map.of("A", "héllo ☃")),
        Arguments.of("underscore names", "_A_1=x", Map.of("_A_1", "x")),
        Arguments.of("empty file", "", Map.of()),
        Arguments.of("dollar kept", "A=${HOME}/x", Map.of("A", "${HOME}/x")),
        Arguments.of("tab before comment", "A=v\t# c", Map.of("A", "v")));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("valid")
  void readsWhatUsersWrite(String name, String text, Map<String, String> expected) {
    DotEnv.Parsed p = DotEnv.parse(text);
    assertThat(p.valid()).as(p.issues().toString()).isTrue();
    assertThat(p.values()).containsExactlyInAnyOrderEntriesOf(expected);
  }

  static Stream<Arguments> invalid() {
    return Stream.of(
        Arguments.of("no equals", "A=1\nJUSTAWORD\n", 2, "expected '=' after JUSTAWORD"),
        Arguments.of("no name", "=1", 1, "expected KEY=VALUE"),
        Arguments.of("bad name", "1A=x", 1, "'1A' is not a variable name"),
        Arguments.of("dash in name", "MY-VAR=x", 1, "'MY-VAR' is not a variable name"),
        Arguments.of("unclosed double", "A=1\nB=\"open\nC=2\n", 2, "never closed"),
        Arguments.of("unclosed single", "B='open", 1, "single-quoted value opened here"),
        Arguments.of("text after quote", "A=\"x\"y", 1, "unexpected text after the closing quote"),
        Arguments.of("space in name", "MY VAR=x", 1, "expected '=' after MY"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("invalid")
  void pointsAtTheLine(String name, String text, int line, String message) {
    DotEnv.Parsed p = DotEnv.parse(text);
    assertThat(p.valid()).isFalse();
    DotEnv.Issue first = p.issues().stream().filter(DotEnv.Issue::error).findFirst().orElseThrow();
    assertThat(first.line()).isEqualTo(line);
    assertThat(first.message()).contains(message);
  }

  @Test
  void keepsGoingAfterABadLine() {
    DotEnv.Parsed p = DotEnv.parse("A=1\nbad line\nB=2\n");
    assertThat(p.values()).containsOnlyKeys("A", "B");
    assertThat(p.issues()).hasSize(1);
  }

  @Test
  void linesCountAcrossMultiLineValues() {
    DotEnv.Parsed p = DotEnv.parse("A=\"1\n2\n3\"\noops\n");
    assertThat(p.issues()).extracting(DotEnv.Issue::line).containsExactly(4);
  }

  @Test
  void warnsThatDollarIsNotExpandedButNotInSingleQuotes() {
    assertThat(DotEnv.parse("A=${B}").issues())
        .singleElement()
        .satisfies(
            i -> {
              assertThat(i.error()).isFalse();
              assertThat(i.message()).contains("not expanded");
            });
    assertThat(DotEnv.parse("A='${B}'").issues()).isEmpty();
  }

  @Test
  void warnsAboutARepeatedName() {
    assertThat(DotEnv.parse("A=1\nA=2").issues())
        .extracting(DotEnv.Issue::line, DotEnv.Issue::error)
        .containsExactly(org.assertj.core.groups.Tuple.tuple(2, false));
  }

  @Test
  void neverQuotesAValueInAProblem() {
    String secret = "s3cr3t-value";
    for (String text :
        List.of(
            "A=\"" + secret,
            "A='" + secret,
            "A=\"" + secret + "\"tail",
            "1A=" + secret,
            "A=${" + secret + "}",
            "A=" + secret + "\nA=" + secret)) {
      assertThat(DotEnv.parse(text).issues())
          .as(text)
          .isNotEmpty()
          .allSatisfy(i -> assertThat(i.message()).doesNotContain(secret));
    }
  }
}
