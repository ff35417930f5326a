package dev.locallambdas.cache;

import dev.locallambdas.exchange.Headers;
import java.util.List;

/**
 * RFC 9111's rules for a shared cache, as this gateway applies them: which responses may be stored
 * and for how long. Pure functions of the response and the function's settings.
 */
final class Policy {
  private static final long NANOS_PER_SECOND = 1_000_000_000L;

  private Policy() {}

  /**
   * Statuses a response may be stored with at all: final, not 206 (ranges are not combined), not
   * 304 (nothing to store) and never 5xx.
   */
  static boolean mayStore(int status) {
    return status >= 200 && status < 500 && status != 206 && status != 304;
  }

  /** RFC 9110's heuristically cacheable statuses, minus 206 and 501: the default TTL applies. */
  static boolean heuristic(int status) {
    return switch (status) {
      case 200, 203, 204, 300, 301, 308, 404, 405, 410, 414 -> true;
      default -> false;
    };
  }

  /** What the cache needs to know to store one response, or null when it must not be stored. */
  record Decision(
      long staleAtNanos, long initialAgeSeconds, boolean allowsAuthorized, List<String> vary) {}

  /**
   * @param defaultTtlNanos freshness of a response without directives: Long.MAX_VALUE for "until
   *     evicted", 0 for "do not store"
   * @param wallNowSeconds the wall clock, for an Expires without a Date
   */
  static Decision decide(
      int status,
      Headers headers,
      boolean authorizedRequest,
      long defaultTtlNanos,
      long nowNanos,
      long wallNowSeconds) {
    if (!mayStore(status) || headers.get("set-cookie") != null) {
      return null;
    }
    CacheControl cc = CacheControl.parse(HttpFields.combined(headers, "cache-control"));
    if (cc == null || cc.noStore || cc.isPrivate || cc.noCache) {
      return null;
    }
    boolean allowsAuthorized = cc.isPublic || cc.sMaxAge >= 0 || cc.mustRevalidate;
    if (authorizedRequest && !allowsAuthorized) {
      return null; // RFC 9111 section 3.5
    }
    List<String> vary = HttpFields.varyNames(HttpFields.combined(headers, "vary"));
    if (vary.contains("*")) {
      return null;
    }
    long initialAge = initialAge(headers.get("age"));
    long lifetimeSeconds;
    if (cc.sMaxAge >= 0) {
      lifetimeSeconds = cc.sMaxAge;
    } else if (cc.maxAge >= 0) {
      lifetimeSeconds = cc.maxAge;
    } else if (headers.get("expires") != null) {
      long expires = HttpFields.date(HttpFields.combined(headers, "expires"));
      if (expires == HttpFields.NO_DATE) {
        return null; // an invalid Expires means "already expired" (RFC 9111 section 5.3)
      }
      long date = HttpFields.date(headers.get("date"));
      lifetimeSeconds = Math.max(0, expires - (date != HttpFields.NO_DATE ? date : wallNowSeconds));
    } else if (heuristic(status) || cc.isPublic) {
      if (defaultTtlNanos == Long.MAX_VALUE) {
        return new Decision(Long.MAX_VALUE, initialAge, allowsAuthorized, vary);
      }
      long remaining =
          defaultTtlNanos
              - Math.min(initialAge, Long.MAX_VALUE / NANOS_PER_SECOND) * NANOS_PER_SECOND;
      return remaining <= 0
          ? null
          : new Decision(nowNanos + remaining, initialAge, allowsAuthorized, vary);
    } else {
      return null;
    }
    long remainingSeconds = lifetimeSeconds - initialAge;
    if (remainingSeconds <= 0) {
      return null; // stale on arrival: the gateway cannot revalidate, so storing it is useless
    }
    return new Decision(
        nowNanos + remainingSeconds * NANOS_PER_SECOND, initialAge, allowsAuthorized, vary);
  }

  /** The function's Age field: delta-seconds, anything else ignored (RFC 9111 section 5.1). */
  static long initialAge(String age) {
    long a = CacheControl.deltaSeconds(age == null ? null : age.strip());
    return Math.max(0, a);
  }
}
