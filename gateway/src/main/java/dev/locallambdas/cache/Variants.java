package dev.locallambdas.cache;

import java.util.ArrayList;
import java.util.List;

/**
 * The stored responses of one primary key (function, path, query), one per combination of the
 * request fields their Vary names; most recent first. Immutable: a store replaces the whole value.
 */
final class Variants {
  /** More variants than this for one URL is almost always a Vary on a per-client field. */
  static final int MAX = 8;

  final StoredResponse[] responses;
  final int weight;

  /** The latest stale time of any variant, for Caffeine's expiry; Long.MAX_VALUE: never. */
  final long staleAtNanos;

  private Variants(StoredResponse[] responses) {
    this.responses = responses;
    long w = 0;
    long stale = Long.MIN_VALUE;
    for (StoredResponse r : responses) {
      w += r.weight;
      if (r.staleAtNanos == Long.MAX_VALUE || stale == Long.MAX_VALUE) {
        stale = Long.MAX_VALUE;
      } else if (stale == Long.MIN_VALUE || r.staleAtNanos - stale > 0) {
        stale = r.staleAtNanos;
      }
    }
    this.weight = (int) Math.min(Integer.MAX_VALUE, w);
    this.staleAtNanos = stale;
  }

  /**
   * {@code previous} (may be null) with {@code added} in front, dropping the variant it replaces,
   * stale variants, variants with a different set of Vary names (the function changed its Vary),
   * and the oldest beyond {@link #MAX}.
   */
  static Variants with(Variants previous, StoredResponse added, long nowNanos) {
    List<StoredResponse> kept = new ArrayList<>(2);
    kept.add(added);
    if (previous != null) {
      for (StoredResponse r : previous.responses) {
        if (kept.size() < MAX
            && r.fresh(nowNanos)
            && java.util.Arrays.equals(r.varyNames, added.varyNames)
            && !r.sameVariant(added)) {
          kept.add(r);
        }
      }
    }
    return new Variants(kept.toArray(new StoredResponse[0]));
  }

  int size() {
    return responses.length;
  }
}
