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
 * {@code /a/b}), '*' may only appear as a final {@code /*}, and no route may lie under {@link
 * #RESERVED_PREFIX}, which the gateway answers itself. {@link #checkPattern} and {@link
 * Builder#conflicting} let a manifest reader find every such problem before a table is built.
 *
 * <p>A lookup costs one hash probe for the whole path plus, only when that finds no exact route,
 * one probe per '/' up to the depth of the deepest prefix route; it does not allocate.
 */
public final class RouteTable<T> {
  /**
   * The paths the gateway answers itself (the admin API, admin.AdminApi): this path and everything
   * under it. Requests there never reach a route, so a route under it is refused.
   */
  public static final String RESERVED_PREFIX = "/.local-lambdas";

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
     * @throws IllegalArgumentException when the pattern is not valid ({@link #checkPattern}), or
     *     when it conflicts with a route added before ({@link #conflicting}); the message names
     *     both patterns
     */
    public Builder<T> add(String pattern, T target) {
      Objects.requireNonNull(target, "target");
      checkPattern(pattern);
      Match<T> earlier = conflicting(pattern);
      if (earlier != null) {
        throw new IllegalArgumentException(
            "route "
                + quote(pattern)
                + " conflicts with route "
                + quote(earlier.pattern())
                + ", added before: "
                + conflictReason(earlier.pattern(), pattern)
                + "; keep one of them");
      }
      Match<T> match = new Match<>(target, pattern);
      Shape shape = Shape.of(pattern);
      Node<T> node =
          byBase.computeIfAbsent(
              shape.base,
              b -> {
                Node<T> n = new Node<>(b);
                nodes.add(n);
                return n;
              });
      if (shape.exact) {
        node.exact = match;
      } else {
        node.prefix = match;
        node.prefixCoversBase = shape.coversBase;
      }
      routes.add(match);
      return this;
    }

    /**
     * The route added before that a valid {@code pattern} would conflict with, or null: the same
     * pattern, or a prefix and a directory route on the same base ({@code /x/*} and {@code /x/}),
     * which would both be the most specific match for the same paths.
     */
    public Match<T> conflicting(String pattern) {
      Shape shape = Shape.of(pattern);
      Node<T> node = byBase.get(shape.base);
      if (node == null) {
        return null;
      }
      return shape.exact ? node.exact : node.prefix;
    }

    public RouteTable<T> build() {
      return new RouteTable<>(this);
    }
  }

  /** The base of a valid pattern ("/api" for /api/* and /api/, "" for /* and /) and its kind. */
  private record Shape(String base, boolean exact, boolean coversBase) {
    static Shape of(String pattern) {
      if (pattern.endsWith("/*")) {
        return new Shape(pattern.substring(0, pattern.length() - 2), false, true);
      }
      if (pattern.endsWith("/")) {
        return new Shape(pattern.substring(0, pattern.length() - 1), false, false);
      }
      return new Shape(pattern, true, false);
    }
  }

  /**
   * Throws IllegalArgumentException, with a message that quotes the pattern and says how to fix it,
   * unless {@code pattern} is a route pattern a table accepts: a canonical path (see {@link
   * RequestTarget}; {@code /a//b} is refused with the suggestion {@code /a/b}), optionally ending
   * in {@code /*}, with '*' nowhere else, and not under {@link #RESERVED_PREFIX}.
   */
  public static void checkPattern(String pattern) {
    if (pattern == null || !pattern.startsWith("/")) {
      throw new IllegalArgumentException(
          "route " + quote(pattern) + " must start with '/', e.g. /api/* or /health");
    }
    int star = pattern.indexOf('*');
    boolean prefix = pattern.endsWith("/*");
    if (star >= 0 && !(prefix && star == pattern.length() - 1)) {
      throw new IllegalArgumentException(
          "route " + quote(pattern) + ": '*' is only allowed as a final '/*' segment, e.g. /api/*");
    }
    String path = prefix ? pattern.substring(0, pattern.length() - 1) : pattern;
    RequestTarget parsed;
    try {
      parsed = RequestTarget.parse(path);
    } catch (BadTargetException e) {
      throw new IllegalArgumentException(
          "route " + quote(pattern) + " is not a valid path: " + e.getMessage(), e);
    }
    if (parsed.query() != null) {
      throw new IllegalArgumentException(
          "route " + quote(pattern) + " contains '?': routes match paths only, not queries");
    }
    if (!parsed.path().equals(path)) {
      String suggestion = prefix ? parsed.path() + "*" : parsed.path();
      throw new IllegalArgumentException(
          "route "
              + quote(pattern)
              + " is not in canonical form and could never match as written; write "
              + quote(suggestion));
    }
    if (reserved(Shape.of(pattern).base)) {
      throw new IllegalArgumentException(
          "route "
              + quote(pattern)
              + " is under "
              + RESERVED_PREFIX
              + ", which the gateway keeps for its own endpoints (status, cache purge): no"
              + " request there reaches a function; choose another path");
    }
  }

  /** True when every path a route with this base matches is a reserved path. */
  private static boolean reserved(String base) {
    return base.equals(RESERVED_PREFIX) || base.startsWith(RESERVED_PREFIX + "/");
  }

  /** Why two conflicting patterns, as reported by {@link Builder#conflicting}, conflict. */
  public static String conflictReason(String earlier, String later) {
    return earlier.equals(later)
        ? "the same pattern is given twice"
        : "both match every path under '"
            + earlier.substring(0, earlier.lastIndexOf('/') + 1)
            + "' with the same specificity";
  }

  /**
   * A pattern quoted for a message: control characters escaped, so that a message stays on one
   * line, and a very long pattern shortened.
   */
  private static String quote(String pattern) {
    if (pattern == null) {
      return "null";
    }
    boolean shorten = pattern.length() > 80;
    String shown = shorten ? pattern.substring(0, 60) : pattern;
    StringBuilder sb = new StringBuilder("'");
    for (int i = 0; i < shown.length(); i++) {
      char c = shown.charAt(i);
      if (c < 0x20 || c == 0x7f) {
        sb.append(String.format("\\x%02x", (int) c));
      } else {
        sb.append(c);
      }
    }
    return shorten
        ? sb.append("...' (").append(pattern.length()).append(" characters)").toString()
        : sb.append('\'').toString();
  }
}
