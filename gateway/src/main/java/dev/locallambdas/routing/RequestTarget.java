package dev.locallambdas.routing;

import java.util.Objects;

/**
 * An origin-form request target (RFC 9112 section 3.2.1) split into its canonical path and its raw
 * query. The canonical path is what the gateway routes on and what it forwards, so that routing and
 * the function see the same path and no spelling of a path can reach a route it is not under.
 *
 * <p>{@link #parse} canonicalises the path in this order:
 *
 * <ol>
 *   <li>The target must start with '/'. It must not contain '#', a control byte (below 0x20, or
 *       0x7F), a space, a non-ASCII character, or a backslash; every '%' must be followed by two
 *       hex digits, and {@code %00} is refused.
 *   <li>Percent-encoded unreserved characters (ALPHA DIGIT - . _ ~) are decoded ({@code %41}
 *       becomes 'A', {@code %2e} becomes '.'); every other percent-encoding is kept, with
 *       upper-case hex. Printable characters that RFC 3986 does not allow in a path ({@code " < > [
 *       ] ^ ` { | }}) are percent-encoded, so the forwarded path is valid even for a strict child
 *       server.
 *   <li>{@code %2F} (slash) and {@code %5C} (backslash) are never decoded: they stay opaque inside
 *       their segment, so they can neither create a segment nor climb out of one. {@code
 *       /api/..%2F..%2Fadmin} is the path {@code /api/} followed by the single segment {@code
 *       ..%2F..%2Fadmin}.
 *   <li>Dot-segments are removed (RFC 3986 section 5.2.4), after the decoding, so {@code
 *       /a/%2e%2e/b} is {@code /b}. A ".." that would climb above the root is refused. Runs of
 *       slashes collapse to one. A trailing slash is kept, and a path that ends in a dot-segment
 *       ends in a slash ({@code /a/.} is {@code /a/}).
 * </ol>
 *
 * <p>';' is an ordinary character of a segment: matrix parameters are not interpreted. {@code
 * /api;x=1/y} has the first segment {@code api;x=1}, so it is not under the route {@code /api/*}.
 *
 * <p>The query is kept exactly as sent (after the first '?', without it), but it too must be free
 * of control bytes, spaces, '#' and non-ASCII characters.
 *
 * <p>The canonical form is a fixed point: parsing a canonical path returns it unchanged. The length
 * of the target is not limited here; the front door enforces its own limit before calling {@link
 * #parse}.
 */
public final class RequestTarget {
  // Character classes of the path, for ASCII.
  private static final byte REJECT = 0;
  private static final byte PLAIN = 1; // allowed as is: unreserved, sub-delims, ':', '@', '/'
  private static final byte PERCENT = 2;
  private static final byte ENCODE = 3; // printable but not allowed in a path: percent-encode it
  private static final byte[] CLASS = new byte[128];
  private static final boolean[] UNRESERVED = new boolean[128];
  private static final char[] HEX = "0123456789ABCDEF".toCharArray();

  static {
    for (char c = 'a'; c <= 'z'; c++) {
      UNRESERVED[c] = true;
      UNRESERVED[Character.toUpperCase(c)] = true;
    }
    for (char c = '0'; c <= '9'; c++) {
      UNRESERVED[c] = true;
    }
    for (char c : "-._~".toCharArray()) {
      UNRESERVED[c] = true;
    }
    for (int c = 0; c < 128; c++) {
      if (UNRESERVED[c]) {
        CLASS[c] = PLAIN;
      }
    }
    for (char c : "!$&'()*+,;=:@/".toCharArray()) {
      CLASS[c] = PLAIN;
    }
    CLASS['%'] = PERCENT;
    for (char c : "\"<>[]^`{|}".toCharArray()) {
      CLASS[c] = ENCODE;
    }
    // Everything else stays REJECT: controls, space, DEL, '#', '\\' ('?' never reaches the class
    // lookup: the first '?' ends the path).
  }

  private final String path;
  private final String query;

  private RequestTarget(String path, String query) {
    this.path = path;
    this.query = query;
  }

  /**
   * Splits and canonicalises an origin-form request target such as {@code /api/x?y=1}.
   *
   * @throws BadTargetException when the target is not an acceptable origin-form target; the message
   *     names the problem and its index in {@code rawTarget}
   */
  public static RequestTarget parse(String rawTarget) throws BadTargetException {
    Objects.requireNonNull(rawTarget, "rawTarget");
    int n = rawTarget.length();
    if (n == 0) {
      throw new BadTargetException("the request target is empty; it must start with '/'");
    }
    if (rawTarget.charAt(0) != '/') {
      throw new BadTargetException(
          "the request target must start with '/' (origin-form), but starts with "
              + describe(rawTarget.charAt(0)));
    }
    int q = rawTarget.indexOf('?');
    int end = q < 0 ? n : q;
    String path;
    if (isCanonical(rawTarget, end)) {
      path = end == n ? rawTarget : rawTarget.substring(0, end);
    } else {
      path = canonicalise(rawTarget, end);
    }
    String query = null;
    if (q >= 0) {
      checkQuery(rawTarget, q + 1);
      query = rawTarget.substring(q + 1);
    }
    return new RequestTarget(path, query);
  }

  /** The canonical path, starting with '/'. */
  public String path() {
    return path;
  }

  /** The raw query without the '?', empty for a target ending in '?', null when there was none. */
  public String query() {
    return query;
  }

  /**
   * Fast check for the common case: only plain characters, no '%', no empty segment, no
   * dot-segment. Such a path is its own canonical form and is returned without copying.
   */
  private static boolean isCanonical(String s, int end) {
    int segStart = 1;
    for (int i = 1; i < end; i++) {
      char c = s.charAt(i);
      if (c >= 128 || CLASS[c] != PLAIN) {
        return false;
      }
      if (c == '/') {
        if (i == segStart || isDotSegment(s, segStart, i - segStart)) {
          return false;
        }
        segStart = i + 1;
      }
    }
    return !isDotSegment(s, segStart, end - segStart);
  }

  private static boolean isDotSegment(CharSequence s, int start, int len) {
    return (len == 1 && s.charAt(start) == '.')
        || (len == 2 && s.charAt(start) == '.' && s.charAt(start + 1) == '.');
  }

  /**
   * The full algorithm, one segment at a time: each segment is normalised straight into {@code out}
   * behind a '/', then dropped again if it turns out to be empty or a dot-segment. Package-private
   * so that tests can check the fast path against it.
   */
  static String canonicalise(String s, int end) throws BadTargetException {
    StringBuilder out = new StringBuilder(end + 8);
    int i = 1; // s.charAt(0) == '/'
    while (true) {
      int segStart = out.length();
      out.append('/');
      while (i < end) {
        char c = s.charAt(i);
        if (c == '/') {
          break;
        }
        byte cls = c < 128 ? CLASS[c] : REJECT;
        if (cls == PLAIN) {
          out.append(c);
          i++;
        } else if (cls == PERCENT) {
          int b = percentByte(s, i, end);
          if (b < 128 && UNRESERVED[b]) {
            out.append((char) b);
          } else {
            appendEncoded(out, b);
          }
          i += 3;
        } else if (cls == ENCODE) {
          appendEncoded(out, c);
          i++;
        } else {
          throw rejected(c, i);
        }
      }
      boolean last = i >= end;
      int len = out.length() - segStart - 1;
      if (len == 0 || isDotSegment(out, segStart + 1, len)) {
        boolean up = len == 2;
        out.setLength(segStart);
        if (up) {
          if (segStart == 0) {
            throw new BadTargetException(
                "the dot-segment '..' ending at index "
                    + (i - 1)
                    + " of the request target climbs above the root");
          }
          int parent = segStart - 1;
          while (out.charAt(parent) != '/') {
            parent--;
          }
          out.setLength(parent);
        }
        if (last) {
          // The path named a directory ("/a/", "/a/.", "/a/b/.."): keep it one.
          out.append('/');
        }
      }
      if (last) {
        return out.toString();
      }
      i++; // the '/'
    }
  }

  private static int percentByte(String s, int i, int end) throws BadTargetException {
    if (i + 2 >= end) {
      throw new BadTargetException(
          "truncated percent-encoding at index " + i + ": '%' must be followed by two hex digits");
    }
    int hi = Character.digit(s.charAt(i + 1), 16);
    int lo = Character.digit(s.charAt(i + 2), 16);
    if (hi < 0 || lo < 0 || s.charAt(i + 1) >= 128 || s.charAt(i + 2) >= 128) {
      String shown =
          printable(s.charAt(i + 1)) && printable(s.charAt(i + 2))
              ? " ('" + s.substring(i, i + 3) + "')"
              : "";
      throw new BadTargetException(
          "malformed percent-encoding at index "
              + i
              + shown
              + ": '%' must be followed by two hex digits");
    }
    int b = hi << 4 | lo;
    if (b == 0) {
      throw new BadTargetException("encoded NUL (%00) at index " + i + " is not allowed");
    }
    return b;
  }

  private static void appendEncoded(StringBuilder out, int b) {
    out.append('%').append(HEX[b >> 4]).append(HEX[b & 0xF]);
  }

  private static void checkQuery(String s, int from) throws BadTargetException {
    for (int i = from, n = s.length(); i < n; i++) {
      char c = s.charAt(i);
      if (c <= ' ' || c >= 0x7F || c == '#') {
        throw rejected(c, i);
      }
    }
  }

  private static BadTargetException rejected(char c, int i) {
    String what =
        switch (c) {
          case '#' -> "'#'";
          case '\\' -> "a backslash";
          case ' ' -> "a space";
          case 0 -> "NUL (0x00)";
          default ->
              c < 0x20 || c == 0x7F
                  ? "control character " + describe(c)
                  : c >= 0x80 ? "non-ASCII character " + describe(c) : "character " + describe(c);
        };
    String hint =
        switch (c) {
          case '#' -> ": a fragment is never sent to a server";
          case '\\' -> ": write '/' or %5C";
          case ' ' -> ": write %20";
          default -> c >= 0x80 ? ": percent-encode its UTF-8 bytes" : "";
        };
    return new BadTargetException(
        what + " at index " + i + " of the request target is not allowed" + hint);
  }

  private static boolean printable(char c) {
    return c > ' ' && c < 0x7F;
  }

  /** A character for a message: quoted when printable ASCII, else its code (never raw). */
  private static String describe(char c) {
    if (printable(c)) {
      return "'" + c + "'";
    }
    return c < 0x100 ? String.format("0x%02X", (int) c) : String.format("U+%04X", (int) c);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof RequestTarget t && path.equals(t.path) && Objects.equals(query, t.query);
  }

  @Override
  public int hashCode() {
    return path.hashCode() * 31 + Objects.hashCode(query);
  }

  /** Path and query as they are forwarded, e.g. "/api/x?y=1". */
  @Override
  public String toString() {
    return query == null ? path : path + "?" + query;
  }
}
