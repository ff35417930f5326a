package dev.locallambdas.routing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.params.provider.Arguments.arguments;

import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class RequestTargetTest {

  static Stream<Arguments> goodTargets() {
    return Stream.of(
        // raw, canonical path, raw query (null: none)
        arguments("/", "/", null),
        arguments("/health", "/health", null),
        arguments("/api/x?y=1", "/api/x", "y=1"),
        arguments("/a?", "/a", ""),
        arguments("/a?b?c=/../d", "/a", "b?c=/../d"),
        arguments("/x?q=%zz&r=\\", "/x", "q=%zz&r=\\"),
        arguments("/a//b", "/a/b", null),
        arguments("//a///b", "/a/b", null),
        arguments("//", "/", null),
        arguments("/a/./b", "/a/b", null),
        arguments("/a/../b", "/b", null),
        arguments("/a/%2e%2e/b", "/b", null),
        arguments("/a/.%2E/b", "/b", null),
        arguments("/a/%2e/b", "/a/b", null),
        arguments("/api/..%2F..%2Fadmin", "/api/..%2F..%2Fadmin", null),
        arguments("/api/..%2f..%2fadmin", "/api/..%2F..%2Fadmin", null),
        arguments("/a%2fb", "/a%2Fb", null),
        arguments("/a%5cb", "/a%5Cb", null),
        arguments("/%41%62%7e%2D%5f%2e%30", "/Ab~-_.0", null),
        arguments("/a%20b", "/a%20b", null),
        arguments("/caf%c3%a9", "/caf%C3%A9", null),
        arguments("/%25", "/%25", null),
        arguments("/%2541", "/%2541", null),
        arguments("/a/", "/a/", null),
        arguments("/a/.", "/a/", null),
        arguments("/a/b/..", "/a/", null),
        arguments("/a/..", "/", null),
        arguments("/.", "/", null),
        arguments("/./", "/", null),
        arguments("/a/...", "/a/...", null),
        arguments("/a/.b/c.", "/a/.b/c.", null),
        arguments("/api;x=1/y", "/api;x=1/y", null),
        arguments("/a:b@c!$&'()*+,;=", "/a:b@c!$&'()*+,;=", null),
        arguments("/a|b{c}", "/a%7Cb%7Bc%7D", null),
        arguments("/a/b/?q", "/a/b/", "q"));
  }

  @ParameterizedTest(name = "[{index}] {0} -> {1} ? {2}")
  @MethodSource("goodTargets")
  void canonicalisesGoodTargets(String raw, String path, String query) throws Exception {
    RequestTarget t = RequestTarget.parse(raw);
    assertThat(t.path()).isEqualTo(path);
    assertThat(t.query()).isEqualTo(query);
    assertThat(RequestTarget.parse(t.path()).path()).isEqualTo(path);
  }

  static Stream<Arguments> badTargets() {
    return Stream.of(
        // raw, fragment of the message
        arguments("", "empty"),
        arguments("api/x", "must start with '/' (origin-form), but starts with 'a'"),
        arguments("*", "must start with '/'"),
        arguments("http://example.com/x", "must start with '/'"),
        arguments("\n/x", "starts with 0x0A"),
        arguments("/x?q=1#f", "'#' at index 6 of the request target is not allowed"),
        arguments("/x#f", "'#' at index 2"),
        arguments("/a\\b", "a backslash at index 2 of the request target is not allowed"),
        arguments("/a%zzb", "malformed percent-encoding at index 2 ('%zz')"),
        arguments("/a%g1", "malformed percent-encoding at index 2 ('%g1')"),
        arguments("/a%4", "truncated percent-encoding at index 2"),
        arguments("/a%", "truncated percent-encoding at index 2"),
        arguments("/a%4?x", "truncated percent-encoding at index 2"),
        arguments("/a%4\nb", "malformed percent-encoding at index 2:"),
        arguments("/a%00b", "encoded NUL (%00) at index 2"),
        arguments("/a\u0000b", "NUL (0x00) at index 2"),
        arguments("/a\nb", "control character 0x0A at index 2"),
        arguments("/a\rb", "control character 0x0D at index 2"),
        arguments("/a\u007fb", "control character 0x7F at index 2"),
        arguments("/a b", "a space at index 2"),
        arguments("/caf\u00e9", "non-ASCII character 0xE9 at index 4"),
        arguments("/\u20ac", "non-ASCII character U+20AC at index 1"),
        arguments("/%e", "truncated percent-encoding"),
        arguments("/%\u0661\u0662", "malformed percent-encoding at index 1:"),
        arguments("/..", "climbs above the root"),
        arguments("/../x", "'..' ending at index 2 of the request target climbs above the root"),
        arguments("/%2e%2e/x", "climbs above the root"),
        arguments("/a/../../b", "climbs above the root"),
        arguments("/a/..//..", "climbs above the root"),
        arguments("/x?a b", "a space at index 4"),
        arguments("/x?\u00e9", "non-ASCII character 0xE9 at index 3"),
        arguments("/x?a\tb", "control character 0x09 at index 4"));
  }

  @ParameterizedTest(name = "[{index}] {1}")
  @MethodSource("badTargets")
  void rejectsBadTargetsWithAPreciseMessage(String raw, String message) {
    assertThatThrownBy(() -> RequestTarget.parse(raw))
        .isInstanceOf(BadTargetException.class)
        .hasMessageContaining(message)
        // The message becomes a response detail: it must never carry the client's raw bytes.
        .satisfies(e -> assertThat(e.getMessage()).matches("[\\x20-\\x7E]+"));
  }

  @Test
  void reusesAnAlreadyCanonicalTarget() throws Exception {
    String raw = "/api/users/42";
    assertThat(RequestTarget.parse(raw).path()).isSameAs(raw);
  }

  @Test
  void keepsAnEmptyQueryApartFromAMissingOne() throws Exception {
    assertThat(RequestTarget.parse("/a?").toString()).isEqualTo("/a?");
    assertThat(RequestTarget.parse("/a").toString()).isEqualTo("/a");
  }

  @Test
  void equalTargetsAreEqual() throws Exception {
    assertThat(RequestTarget.parse("/a/./b?x")).isEqualTo(RequestTarget.parse("//a/b?x"));
    assertThat(RequestTarget.parse("/a/./b?x").hashCode())
        .isEqualTo(RequestTarget.parse("//a/b?x").hashCode());
    assertThat(RequestTarget.parse("/a/b?x")).isNotEqualTo(RequestTarget.parse("/a/b"));
  }
}
