package dev.locallambdas.cache;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import com.github.benmanes.caffeine.cache.RemovalCause;
import java.time.Clock;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Executor;
import java.util.function.LongSupplier;

/**
 * The gateway's response cache: one Caffeine cache bounded by bytes (TinyLFU admission, weighted by
 * each response's size) shared by every function whose caching is on, plus per-function views
 * ({@link FunctionCache}) that apply RFC 9111's shared-cache rules. See docs/cache.md.
 */
public final class ResponseCache {
  private final Cache<Key, Variants> entries;
  private final Map<String, FunctionCache> functions;
  private final LongSupplier ticker;
  private final Clock clock;

  private ResponseCache(Builder b) {
    this.ticker = b.ticker;
    this.clock = b.clock;
    Caffeine<Key, Variants> caffeine =
        Caffeine.newBuilder()
            .maximumWeight(b.settings.maxBytes())
            .weigher((Key k, Variants v) -> v.weight)
            .expireAfter(new StaleExpiry())
            .ticker(ticker::getAsLong)
            .removalListener(
                (Key k, Variants v, RemovalCause cause) -> {
                  FunctionCache f = k == null || v == null ? null : function(k.functionId());
                  if (f != null) {
                    f.removed(v, cause.wasEvicted());
                  }
                });
    if (b.executor != null) {
      caffeine.executor(b.executor);
    }
    this.entries = caffeine.build();
    Map<String, FunctionCache> m = new java.util.HashMap<>();
    for (var e : b.settings.functions().entrySet()) {
      m.put(e.getKey(), new FunctionCache(e.getKey(), this, entries, e.getValue()));
    }
    this.functions = Map.copyOf(m);
  }

  /** A cache with the system's clocks and Caffeine's default executor. */
  public static ResponseCache create(CacheSettings settings) {
    return builder(settings).build();
  }

  public static Builder builder(CacheSettings settings) {
    return new Builder(settings);
  }

  /** The function's cache, or null when caching is off for it (the front door then skips it). */
  public FunctionCache function(String functionId) {
    return functions.get(functionId);
  }

  /** Drops every stored response of one function (unknown or uncached ids: nothing happens). */
  public void invalidate(String functionId) {
    FunctionCache f = functions.get(functionId);
    if (f != null) {
      f.invalidate();
    }
  }

  /** Drops every stored response. */
  public void invalidateAll() {
    for (FunctionCache f : functions.values()) {
      f.newGeneration();
    }
    entries.invalidateAll();
  }

  /** The function's counters; zeros for a function without caching. */
  public CacheStats stats(String functionId) {
    FunctionCache f = functions.get(functionId);
    return f == null ? CacheStats.EMPTY : f.stats();
  }

  /** Runs Caffeine's pending maintenance now (evictions, listeners); for tests and purges. */
  public void cleanUp() {
    entries.cleanUp();
  }

  long nanoTime() {
    return ticker.getAsLong();
  }

  long wallSeconds() {
    return clock.instant().getEpochSecond();
  }

  /**
   * Lets Caffeine free an entry once its last variant is stale (the cache checks freshness too).
   */
  private static final class StaleExpiry implements Expiry<Key, Variants> {
    @Override
    public long expireAfterCreate(Key key, Variants value, long currentTime) {
      return untilStale(value, currentTime);
    }

    @Override
    public long expireAfterUpdate(Key key, Variants value, long currentTime, long currentDuration) {
      return untilStale(value, currentTime);
    }

    @Override
    public long expireAfterRead(Key key, Variants value, long currentTime, long currentDuration) {
      return currentDuration;
    }

    private static long untilStale(Variants v, long now) {
      return v.staleAtNanos == Long.MAX_VALUE ? Long.MAX_VALUE : Math.max(0, v.staleAtNanos - now);
    }
  }

  /** Builds a cache; tests pass a fake ticker and clock and a same-thread executor. */
  public static final class Builder {
    private final CacheSettings settings;
    private LongSupplier ticker = System::nanoTime;
    private Clock clock = Clock.systemUTC();
    private Executor executor;

    private Builder(CacheSettings settings) {
      this.settings = Objects.requireNonNull(settings, "settings");
    }

    /** Monotonic nanoseconds, for Age and expiry. */
    public Builder ticker(LongSupplier value) {
      this.ticker = Objects.requireNonNull(value, "ticker");
      return this;
    }

    /** Wall clock, for an Expires field sent without a Date. */
    public Builder clock(Clock value) {
      this.clock = Objects.requireNonNull(value, "clock");
      return this;
    }

    /** Where Caffeine runs maintenance and removal listeners; default: ForkJoinPool.commonPool. */
    public Builder executor(Executor value) {
      this.executor = Objects.requireNonNull(value, "executor");
      return this;
    }

    public ResponseCache build() {
      return new ResponseCache(this);
    }
  }
}
