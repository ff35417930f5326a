package dev.locallambdas.frontdoor;

/**
 * The authority part of requests: the Host field and absolute-form targets ({@code
 * http://host:port/path?query}, RFC 9112 section 3.2.2, which a server MUST accept). Only the
 * {@code http} scheme is accepted (the front door speaks plain HTTP), and user info ({@code
 * user@host}) is refused, as RFC 9110 section 4.2.4 asks.
 */
final class AbsoluteForm {
  private static final boolean[] HOST_CHAR = new boolean[128];

  static {
    for (char c = '0'; c <= '9'; c++) {
      HOST_CHAR[c] = true;
    }
    for (char c = 'a'; c <= 'z'; c++) {
      HOST_CHAR[c] = true;
      HOST_CHAR[c - 32] = true;
    }
    // unreserved, sub-delims, ':' for the port, '[' ']' for IP literals, '%' for pct-encoded
    for (char c : "-._~!$&'()*+,;=:[]%".toCharArray()) {
      HOST_CHAR[c] = true;
    }
  }

  private AbsoluteForm() {}

  /** True for a valid Host field value: uri-host [":" port], possibly empty. */
  static boolean validHost(CharSequence s) {
    return validAuthority(s, 0, s.length());
  }

  /**
   * For an absolute-form target, the index where its path (or query) starts, which equals the
   * target's length when there is neither; -1 when the target is not an acceptable absolute-form.
   */
  static int pathStart(String target) {
    if (!target.regionMatches(true, 0, "http://", 0, 7)) {
      return -1;
    }
    int end = 7;
    while (end < target.length() && target.charAt(end) != '/' && target.charAt(end) != '?') {
      end++;
    }
    return end > 7 && validAuthority(target, 7, end) ? end : -1;
  }

  /** The authority of an absolute-form target whose path starts at {@code pathStart}. */
  static String authority(String target, int pathStart) {
    return target.substring(7, pathStart);
  }

  private static boolean validAuthority(CharSequence s, int from, int to) {
    for (int i = from; i < to; i++) {
      char c = s.charAt(i);
      if (c >= 128 || !HOST_CHAR[c]) {
        return false;
      }
    }
    return true;
  }
}
