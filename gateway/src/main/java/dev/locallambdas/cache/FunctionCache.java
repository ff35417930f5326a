package dev.locallambdas.cache;

import com.github.benmanes.caffeine.cache.Cache;
import dev.locallambdas.exchange.Headers;
import dev.locallambdas.manifest.CacheSetting;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * One function's view of the gateway's response cache: its settings, counters and in-flight misses.
 * Obtained from {@link ResponseCache#function}; thread-safe; a hit takes no lock.
 */
public final class FunctionCache {
  private static final long NANOS_PER_SECOND = 1_000_000_000L;

  private final String functionId;
  private final ResponseCache owner;
  private final Cache<Key, Variants> entries;
  private final long defaultTtlNanos;
  private final long maxEntryBytes;
  private final ConcurrentHashMap<Key, Flight> flights = new ConcurrentHashMap<>();

  /** Bumped by a purge, so that a response fetched before it is not stored after it. */
  private final AtomicLong generation = new AtomicLong();

  final LongAdder hits = new LongAdder();
  final LongAdder misses = new LongAdder();
  final LongAdder stores = new LongAdder();
  final LongAdder evictions = new LongAdder();
  final LongAdder bytes = new LongAdder();
  final LongAdder bypasses = new LongAdder();

  FunctionCache(
      String functionId, ResponseCache owner, Cache<Key, Variants> entries, CacheSetting setting) {
    this.functionId = functionId;
    this.owner = owner;
    this.entries = entries;
    this.defaultTtlNanos =
        setting.untilEvicted()
            ? Long.MAX_VALUE
            : setting.defaultTtl().compareTo(java.time.Duration.ofNanos(Long.MAX_VALUE - 1)) >= 0
                ? Long.MAX_VALUE - 1
                : setting.defaultTtl().toNanos();
    this.maxEntryBytes = setting.maxEntryBytes();
  }

  public String functionId() {
    return functionId;
  }

  /**
   * Decides how to serve a request. {@code query} is the raw query without '?', null when absent.
   * Call it only for requests without a body. Never blocks; on a hit it allocates only the result.
   */
  public Lookup lookup(String method, String path, String query, RequestFields fields) {
    boolean get = method.equals("GET");
    boolean head = !get && method.equals("HEAD");
    Key key = new Key(functionId, path, query);
    if (!get && !head) {
      boolean unsafe = !method.equals("OPTIONS") && !method.equals("TRACE");
      bypasses.increment();
      return new Lookup.Forward(this, key, fields, false, false, false, unsafe, null, 0);
    }
    String requestCc = fields.get("cache-control");
    long maxAge = -1;
    boolean refresh = false;
    if (requestCc != null) {
      CacheControl cc = CacheControl.parse(requestCc);
      if (cc == null || cc.noStore) {
        return bypass(key, fields);
      }
      // no-cache: the stored response may not be used without validation, which the gateway
      // cannot do cheaply; it fetches a fresh one (and stores that), like max-age=0.
      refresh = cc.noCache;
      maxAge = cc.maxAge;
    } else {
      String pragma = fields.get("pragma");
      if (pragma != null && pragma.toLowerCase(java.util.Locale.ROOT).contains("no-cache")) {
        refresh = true;
      }
    }
    boolean authorized = fields.get("authorization") != null;
    long now = owner.nanoTime();
    Variants stored = refresh ? null : entries.getIfPresent(key);
    if (stored != null) {
      Lookup.Hit hit = hit(stored, fields, authorized, maxAge, now);
      if (hit != null) {
        hits.increment();
        return hit;
      }
    }
    Flight flight = flights.get(key);
    if (flight != null && !refresh) {
      return follow(key, fields, flight);
    }
    boolean conditional =
        fields.get("if-none-match") != null
            || fields.get("if-modified-since") != null
            || fields.get("range") != null;
    if (head || authorized || conditional || flight != null) {
      // These cannot fetch the response others may share: a HEAD has no body to store, an
      // authorized or conditional request's answer is usually not for everyone.
      misses.increment();
      return new Lookup.Forward(
          this, key, fields, true, get, authorized, false, null, generation.get());
    }
    Flight mine = new Flight();
    flight = flights.putIfAbsent(key, mine);
    if (flight != null) {
      return refresh ? forwardMiss(key, fields) : follow(key, fields, flight);
    }
    // A leader may have landed between the first look and the flight: look again.
    stored = refresh ? null : entries.getIfPresent(key);
    if (stored != null) {
      Lookup.Hit hit = hit(stored, fields, false, maxAge, now);
      if (hit != null) {
        land(key, mine, null);
        hits.increment();
        return hit;
      }
    }
    misses.increment();
    return new Lookup.Forward(this, key, fields, true, true, false, false, mine, generation.get());
  }

  private Lookup.Forward bypass(Key key, RequestFields fields) {
    bypasses.increment();
    return new Lookup.Forward(this, key, fields, false, false, false, false, null, 0);
  }

  private Lookup.Forward forwardMiss(Key key, RequestFields fields) {
    misses.increment();
    boolean authorized = fields.get("authorization") != null;
    return new Lookup.Forward(
        this, key, fields, true, true, authorized, false, null, generation.get());
  }

  private Lookup follow(Key key, RequestFields fields, Flight flight) {
    return new Lookup.Wait(
        flight.landed.handle(
            (landed, failure) -> {
              try {
                long now = owner.nanoTime();
                boolean authorized = fields.get("authorization") != null;
                if (landed != null) {
                  Lookup.Hit hit = hit(landed, fields, authorized, -1, now);
                  if (hit != null) {
                    hits.increment();
                    return hit;
                  }
                }
              } catch (RuntimeException e) {
                // A request whose fields cannot be read is still served: by the function.
              }
              // Not stored, or not for this request: it goes to the function itself (collapsing
              // requests onto an uncacheable response would hand one client's answer to others).
              return forwardMiss(key, fields);
            }));
  }

  private static Lookup.Hit hit(
      Variants stored, RequestFields fields, boolean authorized, long maxAge, long now) {
    for (StoredResponse r : stored.responses) {
      if (r.matchesVary(fields)) {
        return hit(r, fields, authorized, maxAge, now);
      }
    }
    return null;
  }

  private static Lookup.Hit hit(
      StoredResponse r, RequestFields fields, boolean authorized, long maxAge, long now) {
    if (!r.matchesVary(fields) || !r.fresh(now) || (authorized && !r.allowsAuthorized)) {
      return null;
    }
    if (maxAge >= 0 && r.ageSeconds(now) > maxAge) {
      return null;
    }
    return new Lookup.Hit(r, notModified(r, fields), r.ageText(now));
  }

  /** RFC 9110 section 13.2.2: If-None-Match, else If-Modified-Since; only for a 2xx. */
  private static boolean notModified(StoredResponse r, RequestFields fields) {
    if (r.status < 200 || r.status > 299) {
      return false;
    }
    String inm = fields.get("if-none-match");
    if (inm != null) {
      return HttpFields.noneMatchHits(inm, r.etagOpaque);
    }
    String ims = fields.get("if-modified-since");
    if (ims != null && r.lastModified != HttpFields.NO_DATE) {
      long since = HttpFields.date(ims);
      return since != HttpFields.NO_DATE && r.lastModified <= since;
    }
    return false;
  }

  /** Stores a complete response if the rules allow; returns it, or null when not stored. */
  StoredResponse store(
      Key key,
      RequestFields fields,
      boolean authorized,
      long generationAtLookup,
      int status,
      Headers headers,
      byte[] body) {
    if (body.length > maxEntryBytes || generationAtLookup != generation.get()) {
      return null;
    }
    long now = owner.nanoTime();
    Policy.Decision d =
        Policy.decide(status, headers, authorized, defaultTtlNanos, now, owner.wallSeconds());
    if (d == null) {
      return null;
    }
    String[] varyNames = d.vary().toArray(new String[0]);
    String[] varyValues = new String[varyNames.length];
    for (int i = 0; i < varyNames.length; i++) {
      varyValues[i] = fields.get(varyNames[i]);
    }
    Headers kept = headers.toBuilder().remove("age").remove("x-cache").build();
    StoredResponse r =
        new StoredResponse(
            status,
            kept,
            body,
            now,
            d.initialAgeSeconds(),
            d.staleAtNanos(),
            varyNames,
            varyValues,
            d.allowsAuthorized());
    entries
        .asMap()
        .compute(
            key,
            (k, previous) -> {
              Variants v = Variants.with(previous, r, now);
              bytes.add(v.weight);
              return v;
            });
    stores.increment();
    return r;
  }

  /** Ends a flight: later requests use the cache, the waiting ones get {@code stored} (or go). */
  void land(Key key, Flight flight, StoredResponse stored) {
    flights.remove(key, flight);
    flight.landed.complete(stored);
  }

  long maxEntryBytes() {
    return maxEntryBytes;
  }

  void invalidate(Key key) {
    entries.invalidate(key);
  }

  /** Drops every stored response of this function, and keeps responses in flight from landing. */
  public void invalidate() {
    newGeneration();
    entries.asMap().keySet().removeIf(k -> k.functionId().equals(functionId));
  }

  /**
   * Drops the stored responses of one URL ({@code query} without '?', null when absent), and keeps
   * responses of this function in flight from landing.
   */
  public void invalidate(String path, String query) {
    newGeneration();
    entries.invalidate(new Key(functionId, path, query));
  }

  void newGeneration() {
    generation.incrementAndGet();
  }

  /** The counters now. {@code bytes} follows removals on Caffeine's executor, so it may lag. */
  public CacheStats stats() {
    return new CacheStats(
        hits.sum(), misses.sum(), stores.sum(), evictions.sum(), bytes.sum(), bypasses.sum());
  }

  void removed(Variants v, boolean evicted) {
    bytes.add(-v.weight);
    if (evicted) {
      evictions.add(v.size());
    }
  }

  @Override
  public String toString() {
    return "FunctionCache["
        + functionId
        + " ttl="
        + (defaultTtlNanos == Long.MAX_VALUE
            ? "until evicted"
            : defaultTtlNanos / NANOS_PER_SECOND + "s")
        + " maxEntry="
        + maxEntryBytes
        + "]";
  }
}
