package dev.locallambdas.manifest;

import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.Objects;

/**
 * A function's response-cache setting, from its {@code <cache>} element. {@code mode} says whether
 * the function follows the gateway-wide {@code ENABLE_CACHE} switch (no {@code <cache>} element) or
 * overrides it; {@code defaultTtl} is how long a response without freshness directives is kept
 * ({@link #UNTIL_EVICTED}: until the cache evicts it, as the original did; zero: such responses are
 * not stored); {@code maxEntryBytes} is the largest response body stored.
 */
public record CacheSetting(Mode mode, Duration defaultTtl, long maxEntryBytes) {
  /** Whether the function's responses are cached. */
  public enum Mode {
    /** No {@code <cache>} element: the gateway's ENABLE_CACHE switch decides. */
    FOLLOW_GLOBAL,
    ENABLED,
    DISABLED
  }

  /** A default TTL meaning "no expiry: kept until evicted". */
  public static final Duration UNTIL_EVICTED = ChronoUnit.FOREVER.getDuration();

  /** The default TTL of version 1 manifests. */
  public static final Duration DEFAULT_TTL = Duration.ofMinutes(1);

  public static final long DEFAULT_MAX_ENTRY_BYTES = 1L << 20;

  /** Byte arrays cannot be larger, and an entry this large would crowd out everything else. */
  public static final long MAX_ENTRY_BYTES_LIMIT = 1L << 30;

  /** Follows ENABLE_CACHE with the version 1 defaults. */
  public static final CacheSetting DEFAULT =
      new CacheSetting(Mode.FOLLOW_GLOBAL, DEFAULT_TTL, DEFAULT_MAX_ENTRY_BYTES);

  public CacheSetting {
    Objects.requireNonNull(mode, "mode");
    if (defaultTtl == null || defaultTtl.isNegative()) {
      throw new IllegalArgumentException("ttl is " + defaultTtl + ": it must be zero or more");
    }
    if (maxEntryBytes < 1 || maxEntryBytes > MAX_ENTRY_BYTES_LIMIT) {
      throw new IllegalArgumentException(
          "max_entry_size is "
              + maxEntryBytes
              + ": it must be between 1 and "
              + MAX_ENTRY_BYTES_LIMIT
              + " bytes (1g)");
    }
  }

  /** True when responses without directives never expire. */
  public boolean untilEvicted() {
    return defaultTtl.equals(UNTIL_EVICTED);
  }
}
