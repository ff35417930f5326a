package dev.locallambdas.routing;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Maps canonical paths (see {@link RequestTarget}) to targets by route pattern. Immutable and safe
 * to share between threads once built.
 *
 * <p>Three kinds of pattern:
 *
 * <ul>
 *   <li><b>exact</b>, {@code /health}: matches {@code /health} only. Exact means exact: not {@code
 *       /health/}, which is a different resource.
 *   <li><b>prefix</b>, {@code /api/*}: matches {@code /api}, {@code /api/} and everything below,
 *       such as {@code /api/a/b}, segment-wise: never {@code /apix}. {@code /*} matches every path.
 *   <li><b>directory</b>, {@code /static/} (the original local_lambdas' trailing slash): matches
 *       {@code /static/} and everything below it, but not {@code /static}. {@code /} matches every
 *       path.
 * </ul>
 *
 * <p>The most specific route wins, whatever the order the routes were added in: an exact route
 * beats every prefix or directory route, and among those the one with the most segments wins.
 * Routes that could both be the most specific match for some path are refused when the table is
 * built: the same pattern twice, and a prefix and a directory route on the same base ({@code /x/*}
 * and {@code /x/} both claim {@code /x/a}). An exact route next to a prefix route on the same path
 * ({@code /x} and {@code /x/*}) is not ambiguous: the exact one wins for {@code /x}.
 *
 * <p>Patterns must be canonical paths themselves ({@code /a//b} is refused with the suggestion
 * {@code /a/b}), and '*' may only appear as a final {@code /*}.
 *
 * <p>A lookup costs one hash probe for the whole path plus, only when that finds no exact route,
 * one probe per '/' up to the depth of the deepest prefix route; it does not allocate.
 */
public final class RouteTable<T> {
  /** The route that matched: its target and the pattern it was added with. */
  public record Match<T>(T target, String pattern) {
    public Match {
      Objects.requireNonNull(target, "target");
      Objects.requireNonNull(pattern, "pattern");
    }
  }

  private final List<Match<T>> routes;
  // Open addressing over the "base" strings of the patterns: "/health" for /health, "/api" for
  // /api/* and for /api/, "" for /* and for /. Probing with a hash of a prefix of the path lets the
  // lookup test every prefix without cutting out a substring.
  private final String[] keys;
  private final int[] hashes;
  private final Node<T>[] nodes;
  private final int mask;
  private final int maxPrefixDepth; // segments of the deepest prefix or directory base; -1: none

  private RouteTable(Builder<T> b) {
    this.routes = List.copyOf(b.routes);
    int capacity = Integer.highestOneBit(Math.max(4, b.nodes.size() * 2) - 1) << 1;
    this.keys = new String[capacity];
    this.hashes = new int[capacity];
    this.nodes = newNodeArray(capacity);
    this.mask = capacity - 1;
    int depth = -1;
    for (Node<T> node : b.nodes) {
      int h = node.base.hashCode();
      int i = spread(h) & mask;
      while (keys[i] != null) {
        i = (i + 1) & mask;
      }
      keys[i] = node.base;
      hashes[i] = h;
      nodes[i] = node;
      if (node.prefix != null) {
        depth = Math.max(depth, segments(node.base));
      }
    }
    this.maxPrefixDepth = depth;
  }

  public static <T> Builder<T> builder() {
    return new Builder<>();
  }

  /**
   * The most specific route for {@code canonicalPath}, or null when none matches. The path must be
   * canonical (as returned by {@link RequestTarget#path()}); a path that is not may be routed
   * differently from what its meaning suggests.
   */
  public Match<T> match(String canonicalPath) {
    int n = canonicalPath.length();
    Node<T> whole = find(canonicalPath, n, canonicalPath.hashCode());
    if (whole != null) {
      if (whole.exact != null) {
        return whole.exact;
      }
      if (whole.prefix != null && whole.prefixCoversBase) {
        return whole.prefix; // /api/* for /api: nothing longer can match
      }
    }
    // Every '/' at index i ends a base, canonicalPath[0, i), whose prefix and directory routes
    // both match; the last one found is the longest, hence the most specific.
    Match<T> best = null;
    int h = 0;
    int depth = 0;
    for (int i = 0; i < n && depth <= maxPrefixDepth; i++) {
      char c = canonicalPath.charAt(i);
      if (c == '/') {
        Node<T> node = find(canonicalPath, i, h);
        if (node != null && node.prefix != null) {
          best = node.prefix;
        }
        depth++;
      }
      h = 31 * h + c;
    }
    return best;
  }

  /** Every route in the order it was added. */
  public List<Match<T>> routes() {
    return routes;
  }

  private Node<T> find(String path, int len, int h) {
    int i = spread(h) & mask;
    String key;
    while ((key = keys[i]) != null) {
      if (hashes[i] == h && key.length() == len && path.regionMatches(0, key, 0, len)) {
        return nodes[i];
      }
      i = (i + 1) & mask;
    }
    return null;
  }

  private static int spread(int h) {
    return h ^ (h >>> 16);
  }

  private static int segments(String base) {
    int count = 0;
    for (int i = 0; i < base.length(); i++) {
      if (base.charAt(i) == '/') {
        count++;
      }
    }
    return count;
  }

  @SuppressWarnings("unchecked")
  private static <T> Node<T>[] newNodeArray(int size) {
    return (Node<T>[]) new Node<?>[size];
  }

  /** The routes sharing one base string. At most one prefix-or-directory route per base. */
  private static final class Node<T> {
    final String base;
    Match<T> exact;
    Match<T> prefix;
    boolean prefixCoversBase; // true for /x/* (matches /x itself), false for /x/

    Node(String base) {
      this.base = base;
    }
  }

  /** Collects routes; {@link #add} refuses a malformed pattern or an ambiguity at once. */
  public static final class Builder<T> {
    private final List<Match<T>> routes = new ArrayList<>();
    private final List<Node<T>> nodes = new ArrayList<>();
    private final Map<String, Node<T>> byBase = new HashMap<>();

    private Builder() {}

    /**
     * Adds a route.
     *
     * @throws IllegalArgumentException when the pattern is malformed or not canonical, or when it
     *     conflicts with a route added before; the message names both routes
     */
    public Builder<T> add(String pattern, T target) {
      Objects.requireNonNull(target, "target");
      if (pattern == null || !pattern.startsWith("/")) {
        throw new IllegalArgumentException(
            "route '" + pattern + "' must start with '/', e.g. /api/* or /health");
      }
      int star = pattern.indexOf('*');
      boolean prefix = pattern.endsWith("/*");
      if (star >= 0 && !(prefix && star == pattern.length() - 1)) {
        throw new IllegalArgumentException(
            "route '" + pattern + "': '*' is only allowed as a final '/*' segment, e.g. /api/*");
      }
      String path = prefix ? pattern.substring(0, pattern.length() - 1) : pattern;
      checkCanonical(pattern, path, prefix);
      boolean directory = !prefix && path.endsWith("/");
      String base = prefix || directory ? path.substring(0, path.length() - 1) : path;

      Match<T> match = new Match<>(target, pattern);
      Node<T> node = byBase.get(base);
      if (node == null) {
        node = new Node<>(base);
        byBase.put(base, node);
        nodes.add(node);
      }
      if (prefix || directory) {
        if (node.prefix != null) {
          throw conflict(node.prefix, match);
        }
        node.prefix = match;
        node.prefixCoversBase = prefix;
      } else {
        if (node.exact != null) {
          throw conflict(node.exact, match);
        }
        node.exact = match;
      }
      routes.add(match);
      return this;
    }

    public RouteTable<T> build() {
      return new RouteTable<>(this);
    }

    private static void checkCanonical(String pattern, String path, boolean prefix) {
      RequestTarget parsed;
      try {
        parsed = RequestTarget.parse(path);
      } catch (BadTargetException e) {
        throw new IllegalArgumentException(
            "route '" + pattern + "' is not a valid path: " + e.getMessage(), e);
      }
      if (parsed.query() != null) {
        throw new IllegalArgumentException(
            "route '" + pattern + "' contains '?': routes match paths only, not queries");
      }
      if (!parsed.path().equals(path)) {
        String suggestion = prefix ? parsed.path() + "*" : parsed.path();
        throw new IllegalArgumentException(
            "route '"
                + pattern
                + "' is not in canonical form and could never match as written; write '"
                + suggestion
                + "'");
      }
    }

    private static IllegalArgumentException conflict(Match<?> earlier, Match<?> later) {
      String why =
          earlier.pattern().equals(later.pattern())
              ? "the same pattern is given twice"
              : "both match every path under '"
                  + earlier.pattern().substring(0, earlier.pattern().lastIndexOf('/') + 1)
                  + "' with the same specificity";
      return new IllegalArgumentException(
          "route '"
              + later.pattern()
              + "' for "
              + later.target()
              + " conflicts with route '"
              + earlier.pattern()
              + "' for "
              + earlier.target()
              + ": "
              + why
              + "; keep one of them");
    }
  }
}
