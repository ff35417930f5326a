package dev.locallambdas.cache;

import dev.locallambdas.exchange.Headers;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** The small pieces of HTTP field syntax the cache needs: dates, entity tags, lists. */
final class HttpFields {
  /** Returned by {@link #date} for a missing or invalid date. */
  static final long NO_DATE = Long.MIN_VALUE;

  private HttpFields() {}

  /** All field lines of {@code name} combined by ", ", or null when there are none. */
  static String combined(Headers headers, String name) {
    List<String> all = headers.all(name);
    return all.isEmpty() ? null : all.size() == 1 ? all.getFirst() : String.join(", ", all);
  }

  /**
   * An HTTP-date (IMF-fixdate, RFC 9110 section 5.6.7) as epoch seconds, or {@link #NO_DATE}. The
   * obsolete RFC 850 and asctime forms are not accepted: such a date counts as invalid.
   */
  static long date(String value) {
    if (value == null) {
      return NO_DATE;
    }
    try {
      return ZonedDateTime.parse(value.strip(), DateTimeFormatter.RFC_1123_DATE_TIME)
          .toEpochSecond();
    } catch (DateTimeParseException e) {
      return NO_DATE;
    }
  }

  /** The opaque tag of an entity tag ({@code "x"} of {@code W/"x"}), or null when malformed. */
  static String opaqueTag(String etag) {
    if (etag == null) {
      return null;
    }
    String t = etag.strip();
    if (t.startsWith("W/")) {
      t = t.substring(2);
    }
    if (t.length() < 2
        || t.charAt(0) != '"'
        || t.charAt(t.length() - 1) != '"'
        || t.indexOf('"', 1) != t.length() - 1) {
      return null;
    }
    return t;
  }

  /**
   * True when an If-None-Match value matches the stored opaque tag, by weak comparison (RFC 9110
   * section 13.1.2): {@code *}, or any listed tag with the same opaque tag. A malformed list
   * matches nothing, so the full response is sent.
   */
  static boolean noneMatchHits(String ifNoneMatch, String storedOpaque) {
    if (storedOpaque == null) {
      return false;
    }
    String v = ifNoneMatch.strip();
    if (v.equals("*")) {
      return true;
    }
    int i = 0;
    int n = v.length();
    while (i < n) {
      char c = v.charAt(i);
      if (c == ' ' || c == '\t' || c == ',') {
        i++;
        continue;
      }
      if (v.startsWith("W/", i)) {
        i += 2;
      }
      if (i >= n || v.charAt(i) != '"') {
        return false;
      }
      int end = v.indexOf('"', i + 1);
      if (end < 0) {
        return false;
      }
      if (storedOpaque.length() == end + 1 - i && v.startsWith(storedOpaque, i)) {
        return true;
      }
      i = end + 1;
    }
    return false;
  }

  /** The lower-case field names of a Vary value; contains "*" when it lists "*". */
  static List<String> varyNames(String vary) {
    List<String> names = new ArrayList<>(2);
    if (vary == null) {
      return names;
    }
    for (String part : vary.split(",", -1)) {
      String name = part.strip().toLowerCase(Locale.ROOT);
      if (!name.isEmpty() && !names.contains(name)) {
        names.add(name);
      }
    }
    return names;
  }
}
