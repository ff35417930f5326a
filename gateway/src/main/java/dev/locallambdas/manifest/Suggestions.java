package dev.locallambdas.manifest;

import java.util.Collection;
import java.util.Locale;

/** Finds the known name a misspelt one was probably meant to be. */
final class Suggestions {
  private Suggestions() {}

  /** The closest candidate within a small edit distance, or null when none is close. */
  static String closest(String name, Collection<String> candidates) {
    String n = name.toLowerCase(Locale.ROOT).replace('-', '_');
    String best = null;
    int bestDistance = Integer.MAX_VALUE;
    for (String c : candidates) {
      int d = distance(n, c.toLowerCase(Locale.ROOT).replace('-', '_'));
      if (d < bestDistance) {
        best = c;
        bestDistance = d;
      }
    }
    // Short names tolerate one edit, longer ones a few: "idd" -> "id", "max_instance" ->
    // "max_instances", "idle_timout" -> "idle_timeout", but "foo" suggests nothing.
    int allowed = Math.min(3, Math.max(1, n.length() / 4));
    return bestDistance <= allowed ? best : null;
  }

  /** Optimal string alignment distance: insertions, deletions, substitutions, transpositions. */
  static int distance(String a, String b) {
    int[][] d = new int[a.length() + 1][b.length() + 1];
    for (int i = 0; i <= a.length(); i++) {
      d[i][0] = i;
    }
    for (int j = 0; j <= b.length(); j++) {
      d[0][j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      for (int j = 1; j <= b.length(); j++) {
        int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
        d[i][j] = Math.min(Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1), d[i - 1][j - 1] + cost);
        if (i > 1
            && j > 1
            && a.charAt(i - 1) == b.charAt(j - 2)
            && a.charAt(i - 2) == b.charAt(j - 1)) {
          d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
        }
      }
    }
    return d[a.length()][b.length()];
  }
}
