package dev.locallambdas.cache;

/**
 * A snapshot of one function's cache counters. {@code hits} and {@code misses} count lookups of
 * cacheable requests (a bypassed request counts as neither); {@code evictions} counts stored
 * responses dropped for space or because they expired; {@code bytes} is the estimated memory the
 * function's stored responses hold now; {@code bypasses} counts requests that went past the cache
 * (X-Cache: BYPASS: a request's no-store, unsafe methods).
 */
public record CacheStats(
    long hits, long misses, long stores, long evictions, long bytes, long bypasses) {
  public static final CacheStats EMPTY = new CacheStats(0, 0, 0, 0, 0, 0);
}
