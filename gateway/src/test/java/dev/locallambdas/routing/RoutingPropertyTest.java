package dev.locallambdas.routing;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Random targets built from the pieces path-confusion attacks are made of. Whatever a target looks
 * like, routing on its canonical path must agree with a plain segment-by-segment reading of the
 * route patterns, and the canonical form must be a fixed point.
 */
class RoutingPropertyTest {
  private static final String[] PIECES = {
    "/", "/", "/", "/", "//", "a", "b", "api", "admin", "static", "v1", "health", ".", "..", "...",
    "%2e", "%2E", "%2e%2e", ".%2e", "%2F", "%2f", "%5c", "%5C", "\\", ";", ";x=1", "%3B", "%41",
    "%7e", "%7E", "~", "-", "%", "%zz", "%4", "%00", "%20", "%25", "|", "?", "?q=1", "#", " ",
    "\u00e9", "\t", "*", "@", ":"
  };

  private static final String[] PATTERNS = {
    "/api/*", "/api/v1/*", "/admin/*", "/static/", "/a/b/*", "/a/", "/api/health", "/a", "/health"
  };

  @Test
  void routesOnlyUnderTheMatchedPrefixAndCanonicalFormIsAFixedPoint() throws Exception {
    RouteTable.Builder<String> builder = RouteTable.builder();
    for (String p : PATTERNS) {
      builder.add(p, p);
    }
    RouteTable<String> table = builder.build();
    Random random = new Random(20240611L);
    int parsed = 0;
    int routed = 0;
    for (int run = 0; run < 20_000; run++) {
      String raw = randomTarget(random);
      RequestTarget target;
      try {
        target = RequestTarget.parse(raw);
      } catch (BadTargetException e) {
        assertThat(e.getMessage()).as(raw).matches("[\\x20-\\x7E]+");
        continue;
      }
      parsed++;
      String path = target.path();
      assertWellFormed(raw, path);

      RequestTarget again = RequestTarget.parse(path);
      assertThat(again.path()).as("idempotent for %s", raw).isEqualTo(path);
      assertThat(again.query()).isNull();
      int q = raw.indexOf('?');
      String rawPath = q < 0 ? raw : raw.substring(0, q);
      assertThat(RequestTarget.canonicalise(rawPath, rawPath.length()))
          .as("fast path agrees with the full algorithm for %s", raw)
          .isEqualTo(path);

      RouteTable.Match<String> m = table.match(path);
      String expected = referenceMatch(path);
      assertThat(m == null ? null : m.pattern())
          .as("route for %s (%s)", raw, path)
          .isEqualTo(expected);
      if (m != null) {
        routed++;
        assertLiesUnder(raw, path, m.pattern());
      }
    }
    // The generator must exercise both outcomes, or the properties prove nothing.
    assertThat(parsed).isGreaterThan(2_000);
    assertThat(routed).isGreaterThan(500);
  }

  private static String randomTarget(Random random) {
    StringBuilder sb = new StringBuilder("/");
    int pieces = 1 + random.nextInt(10);
    for (int i = 0; i < pieces; i++) {
      // Rare pieces (the ones that are always rejected) less often, so many targets survive.
      String piece = PIECES[random.nextInt(PIECES.length)];
      if (piece.equals("#")
          || piece.equals(" ")
          || piece.equals("\t")
          || piece.equals("%00")
          || piece.equals("\\")
          || piece.equals("\u00e9")
          || piece.startsWith("%z")) {
        if (random.nextInt(4) != 0) {
          piece = "/";
        }
      }
      sb.append(piece);
    }
    return sb.toString();
  }

  /** No empty or dot segment, no percent-encoding that should have been decoded or upper-cased. */
  private static void assertWellFormed(String raw, String path) {
    assertThat(path).as(raw).startsWith("/").doesNotContain("//");
    List<String> segments = segments(path);
    for (String s : segments) {
      assertThat(s).as("segment of %s", raw).isNotIn(".", "..");
    }
    for (int i = 0; i < path.length(); i++) {
      char c = path.charAt(i);
      assertThat(c).as(raw).isBetween('!', '~').isNotIn('\\', '#', '?', '"', '<', '>', '|');
      if (c == '%') {
        int b = Integer.parseInt(path.substring(i + 1, i + 3), 16);
        assertThat(path.substring(i + 1, i + 3)).as(raw).isUpperCase();
        boolean unreserved = Character.isLetterOrDigit(b) && b < 128 || "-._~".indexOf(b) >= 0;
        assertThat(unreserved).as("%%%02X left encoded in %s", b, raw).isFalse();
        assertThat(b).as(raw).isNotZero();
      }
    }
  }

  /** Segment-wise: the path's segments start with all of the pattern base's segments. */
  private static void assertLiesUnder(String raw, String path, String pattern) {
    List<String> p = segments(path);
    if (pattern.endsWith("/*")) {
      List<String> base = segments(pattern.substring(0, pattern.length() - 2));
      assertThat(p.size()).as(raw).isGreaterThanOrEqualTo(base.size());
      assertThat(p.subList(0, base.size())).as("%s under %s", path, pattern).isEqualTo(base);
    } else if (pattern.endsWith("/")) {
      List<String> base = segments(pattern.substring(0, pattern.length() - 1));
      assertThat(p.size()).as(raw).isGreaterThanOrEqualTo(base.size());
      assertThat(p.subList(0, base.size())).as("%s under %s", path, pattern).isEqualTo(base);
      // ... and something after the base: a further segment or the final '/'.
      assertThat(path).as(raw).startsWith(pattern);
    } else {
      assertThat(path).isEqualTo(pattern);
    }
  }

  /**
   * Brute force over all patterns: exact beats everything, else the matching prefix or directory
   * pattern with the most base segments.
   */
  private static String referenceMatch(String path) {
    List<String> p = segments(path);
    boolean dir = path.endsWith("/");
    String best = null;
    int bestDepth = -1;
    for (String pattern : PATTERNS) {
      if (pattern.endsWith("/*") || pattern.endsWith("/")) {
        boolean star = pattern.endsWith("/*");
        List<String> base = segments(pattern.substring(0, pattern.length() - (star ? 2 : 1)));
        boolean under = p.size() >= base.size() && p.subList(0, base.size()).equals(base);
        // A directory route needs something after its base: a further segment or a final '/'.
        boolean matches =
            under && (star || p.size() > base.size() || (p.size() == base.size() && dir));
        if (matches && base.size() > bestDepth) {
          best = pattern;
          bestDepth = base.size();
        }
      } else if (pattern.equals(path)) {
        return pattern;
      }
    }
    return best;
  }

  /** The non-empty segments; a trailing '/' adds no segment. */
  private static List<String> segments(String path) {
    List<String> out = new ArrayList<>();
    for (String s : path.split("/", -1)) {
      if (!s.isEmpty()) {
        out.add(s);
      }
    }
    return out;
  }
}
