package dev.locallambdas.cache;

/**
 * The Cache-Control directives the cache acts on (RFC 9111 section 5.2), parsed strictly: a list of
 * {@code token [ "=" ( token / quoted-string ) ]}. {@link #parse} returns null for anything else,
 * for a max-age or s-maxage that is not delta-seconds, and for a duplicated max-age or s-maxage;
 * callers treat null as "not cacheable" (response) or "bypass" (request), never as an error.
 */
final class CacheControl {
  /** RFC 9111 section 1.2.2: a delta-seconds too large to represent is taken as 2^31. */
  static final long DELTA_SECONDS_CAP = 2_147_483_648L;

  static final CacheControl NONE = new CacheControl();

  boolean noStore;
  boolean noCache;
  boolean isPrivate;
  boolean isPublic;
  boolean mustRevalidate;
  long maxAge = -1;
  long sMaxAge = -1;

  private CacheControl() {}

  /** Directives of the field value (null or empty: none), or null when it is malformed. */
  static CacheControl parse(String value) {
    if (value == null || value.isBlank()) {
      return NONE;
    }
    CacheControl cc = new CacheControl();
    int n = value.length();
    int i = 0;
    while (i < n) {
      i = skipSpace(value, i);
      if (i < n && value.charAt(i) == ',') {
        i++; // empty list elements are allowed (RFC 9110 section 5.6.1)
        continue;
      }
      if (i >= n) {
        break;
      }
      int nameStart = i;
      while (i < n && isTchar(value.charAt(i))) {
        i++;
      }
      if (i == nameStart) {
        return null;
      }
      String name = value.substring(nameStart, i);
      String arg = null;
      if (i < n && value.charAt(i) == '=') {
        i++;
        if (i < n && value.charAt(i) == '"') {
          StringBuilder sb = new StringBuilder();
          i++;
          boolean closed = false;
          while (i < n) {
            char c = value.charAt(i++);
            if (c == '"') {
              closed = true;
              break;
            }
            if (c == '\\') {
              if (i >= n) {
                return null;
              }
              c = value.charAt(i++);
            }
            sb.append(c);
          }
          if (!closed) {
            return null;
          }
          arg = sb.toString();
        } else {
          int argStart = i;
          while (i < n && isTchar(value.charAt(i))) {
            i++;
          }
          if (i == argStart) {
            return null;
          }
          arg = value.substring(argStart, i);
        }
      }
      i = skipSpace(value, i);
      if (i < n && value.charAt(i) != ',') {
        return null;
      }
      if (!cc.apply(name, arg)) {
        return null;
      }
    }
    return cc;
  }

  private boolean apply(String name, String arg) {
    if (name.equalsIgnoreCase("max-age")) {
      if (maxAge >= 0) {
        return false;
      }
      maxAge = deltaSeconds(arg);
      return maxAge >= 0;
    }
    if (name.equalsIgnoreCase("s-maxage")) {
      if (sMaxAge >= 0) {
        return false;
      }
      sMaxAge = deltaSeconds(arg);
      return sMaxAge >= 0;
    }
    // no-cache and private may carry field names; a shared cache that does not store such
    // responses at all needs only the directive itself.
    if (name.equalsIgnoreCase("no-store")) {
      noStore = true;
    } else if (name.equalsIgnoreCase("no-cache")) {
      noCache = true;
    } else if (name.equalsIgnoreCase("private")) {
      isPrivate = true;
    } else if (name.equalsIgnoreCase("public")) {
      isPublic = true;
    } else if (name.equalsIgnoreCase("must-revalidate")
        || name.equalsIgnoreCase("proxy-revalidate")) {
      mustRevalidate = true;
    }
    return true; // unknown extensions are ignored (RFC 9111 section 5.2.3)
  }

  /** Non-negative seconds, capped at 2^31, or -1 when the value is not delta-seconds. */
  static long deltaSeconds(String v) {
    if (v == null || v.isEmpty()) {
      return -1;
    }
    long r = 0;
    for (int i = 0; i < v.length(); i++) {
      char c = v.charAt(i);
      if (c < '0' || c > '9') {
        return -1;
      }
      r = Math.min(r * 10 + (c - '0'), DELTA_SECONDS_CAP);
    }
    return r;
  }

  private static int skipSpace(String s, int i) {
    while (i < s.length() && (s.charAt(i) == ' ' || s.charAt(i) == '\t')) {
      i++;
    }
    return i;
  }

  private static boolean isTchar(char c) {
    return (c >= 'a' && c <= 'z')
        || (c >= 'A' && c <= 'Z')
        || (c >= '0' && c <= '9')
        || "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
  }
}
