package dev.locallambdas.manifest;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Reads a function's {@code <cache>} element: {@code <enabled>}, {@code <ttl>} and {@code
 * <max_entry_size>}, each optional and at most once. A {@code <cache>} element turns caching on
 * unless it says {@code <enabled>false</enabled>}; without one the function follows ENABLE_CACHE.
 */
final class CacheReader {
  private static final List<String> ELEMENTS = List.of("enabled", "ttl", "max_entry_size");

  private CacheReader() {}

  /**
   * The setting, or null when the element has problems (they are added to {@code problems}). {@code
   * cache} is null when the function has no {@code <cache>} element.
   */
  static CacheSetting read(
      XmlElement cache, boolean originalFormat, String label, Problems problems) {
    // The original kept every response until evicted; version 1 keeps an undirected one a minute.
    Duration defaultTtl = originalFormat ? CacheSetting.UNTIL_EVICTED : CacheSetting.DEFAULT_TTL;
    if (cache == null) {
      return new CacheSetting(
          CacheSetting.Mode.FOLLOW_GLOBAL, defaultTtl, CacheSetting.DEFAULT_MAX_ENTRY_BYTES);
    }
    int before = problems.count();
    Map<String, XmlElement> given = new LinkedHashMap<>();
    for (XmlElement child : cache.children()) {
      String where = "<" + child.name() + "> in <cache> of " + label;
      if (!ELEMENTS.contains(child.name())) {
        String guess = Suggestions.closest(child.name(), ELEMENTS);
        problems.add(
            child.line(),
            where,
            "unknown element"
                + (guess != null
                    ? ": did you mean <" + guess + ">?"
                    : "; known elements are " + String.join(", ", ELEMENTS)));
        continue;
      }
      XmlElement first = given.putIfAbsent(child.name(), child);
      if (first != null) {
        problems.add(
            child.line(), where, "given twice (first at line " + first.line() + "): keep one");
        continue;
      }
      if (!child.attributes().isEmpty()) {
        problems.add(
            child.line(),
            where,
            "unknown attribute " + child.attributes().getFirst().name() + ": it takes none");
      }
      if (!child.children().isEmpty()) {
        problems.add(
            child.children().getFirst().line(),
            where,
            "holds text, not elements: move <"
                + child.children().getFirst().name()
                + "> out of it");
      }
    }
    boolean enabled = true;
    Duration ttl = defaultTtl;
    long maxEntry = CacheSetting.DEFAULT_MAX_ENTRY_BYTES;
    try {
      String v = text(given.get("enabled"), label, problems);
      if (v != null) {
        enabled = bool(v);
      }
    } catch (IllegalArgumentException e) {
      problems.add(given.get("enabled").line(), "<enabled> in <cache> of " + label, e.getMessage());
    }
    try {
      String v = text(given.get("ttl"), label, problems);
      if (v != null) {
        ttl = v.equalsIgnoreCase("never") ? CacheSetting.UNTIL_EVICTED : ManifestValues.duration(v);
      }
    } catch (IllegalArgumentException e) {
      problems.add(given.get("ttl").line(), "<ttl> in <cache> of " + label, e.getMessage());
    }
    try {
      String v = text(given.get("max_entry_size"), label, problems);
      if (v != null) {
        maxEntry = ManifestValues.size(v);
        if (maxEntry < 1 || maxEntry > CacheSetting.MAX_ENTRY_BYTES_LIMIT) {
          throw new IllegalArgumentException(
              Quote.of(v) + " is not allowed: it must be between 1 byte and 1g");
        }
      }
    } catch (IllegalArgumentException e) {
      problems.add(
          given.get("max_entry_size").line(),
          "<max_entry_size> in <cache> of " + label,
          e.getMessage());
    }
    if (problems.count() != before) {
      return null;
    }
    return new CacheSetting(
        enabled ? CacheSetting.Mode.ENABLED : CacheSetting.Mode.DISABLED, ttl, maxEntry);
  }

  /** The trimmed text of an optional element; null when absent or empty (reported). */
  private static String text(XmlElement e, String label, Problems problems) {
    if (e == null) {
      return null;
    }
    String t = e.text().strip();
    if (t.isEmpty()) {
      problems.add(
          e.line(),
          "<" + e.name() + "> in <cache> of " + label,
          "is empty: give a value or remove the element");
      return null;
    }
    return t;
  }

  private static boolean bool(String v) {
    return switch (v.toLowerCase(Locale.ROOT)) {
      case "true" -> true;
      case "false" -> false;
      default ->
          throw new IllegalArgumentException(Quote.of(v) + " is not allowed: use true or false");
    };
  }
}
