package dev.locallambdas.cache;

import dev.locallambdas.exchange.Headers;
import java.util.Objects;
import java.util.Set;

/**
 * One stored response, in the form a hit is written from: status, the fields to send (without Age
 * and X-Cache, which vary per hit), the fields of a 304, and the body. Immutable except for two
 * memo slots whose racy initialisation is harmless (every racer computes an equal value).
 */
final class StoredResponse {
  private static final long NANOS_PER_SECOND = 1_000_000_000L;

  /** The fields a 304 carries when the 200 would have (RFC 9110 section 15.4.5). */
  private static final Set<String> NOT_MODIFIED_FIELDS =
      Set.of("cache-control", "content-location", "date", "etag", "expires", "vary");

  /** A rough per-entry overhead: objects, arrays, the key and Caffeine's node. */
  private static final int OVERHEAD_BYTES = 256;

  final int status;
  final Headers headers;
  final Headers notModifiedHeaders;
  final byte[] body;
  final long storedAtNanos;
  final long initialAgeSeconds;

  /** Ticker value at which it turns stale; Long.MAX_VALUE: kept until evicted. */
  final long staleAtNanos;

  final String[] varyNames;
  final String[] varyValues;
  final boolean allowsAuthorized;
  final String etagOpaque;
  final long lastModified;
  final int weight;

  private volatile AgeText age;
  private volatile Object wireForm;
  private volatile Object notModifiedWireForm;

  private record AgeText(long seconds, String text) {}

  StoredResponse(
      int status,
      Headers headers,
      byte[] body,
      long storedAtNanos,
      long initialAgeSeconds,
      long staleAtNanos,
      String[] varyNames,
      String[] varyValues,
      boolean allowsAuthorized) {
    this.status = status;
    this.headers = headers;
    this.body = body;
    this.storedAtNanos = storedAtNanos;
    this.initialAgeSeconds = initialAgeSeconds;
    this.staleAtNanos = staleAtNanos;
    this.varyNames = varyNames;
    this.varyValues = varyValues;
    this.allowsAuthorized = allowsAuthorized;
    this.etagOpaque = HttpFields.opaqueTag(headers.get("etag"));
    this.lastModified = HttpFields.date(headers.get("last-modified"));
    Headers.Builder nm = Headers.builder();
    long fieldBytes = 0;
    for (int i = 0; i < headers.size(); i++) {
      String name = headers.name(i);
      fieldBytes += 2L * (name.length() + headers.value(i).length()) + 48;
      if (NOT_MODIFIED_FIELDS.contains(name)) {
        nm.add(name, headers.value(i));
      }
    }
    this.notModifiedHeaders = nm.build();
    for (int i = 0; i < varyNames.length; i++) {
      fieldBytes +=
          2L * (varyNames[i].length() + (varyValues[i] == null ? 0 : varyValues[i].length()));
    }
    this.weight = (int) Math.min(Integer.MAX_VALUE, body.length + fieldBytes + OVERHEAD_BYTES);
  }

  boolean fresh(long nowNanos) {
    return nowNanos - staleAtNanos < 0 || staleAtNanos == Long.MAX_VALUE;
  }

  /** RFC 9111 section 4.2.3 current_age, for a cache that shares the function's clock. */
  long ageSeconds(long nowNanos) {
    return initialAgeSeconds + Math.max(0, nowNanos - storedAtNanos) / NANOS_PER_SECOND;
  }

  /** The Age field value now; allocates only when the second changed since the last hit. */
  String ageText(long nowNanos) {
    long s = ageSeconds(nowNanos);
    AgeText a = age;
    if (a == null || a.seconds != s) {
      a = new AgeText(s, Long.toString(s));
      age = a;
    }
    return a.text;
  }

  boolean matchesVary(RequestFields fields) {
    for (int i = 0; i < varyNames.length; i++) {
      if (!Objects.equals(varyValues[i], fields.get(varyNames[i]))) {
        return false;
      }
    }
    return true;
  }

  /** Same Vary field names and values: a newer response replaces this one. */
  boolean sameVariant(StoredResponse other) {
    return java.util.Arrays.equals(varyNames, other.varyNames)
        && java.util.Arrays.equals(varyValues, other.varyValues);
  }

  Object wireForm(boolean notModified) {
    return notModified ? notModifiedWireForm : wireForm;
  }

  void wireForm(boolean notModified, Object form) {
    if (notModified) {
      notModifiedWireForm = form;
    } else {
      wireForm = form;
    }
  }
}
