package dev.locallambdas.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;

/**
 * What one worker (or a whole run, after {@link #add}) saw: a latency histogram in nanoseconds,
 * responses by status, response sizes and failures. Not thread-safe: one per worker, merged at the
 * end, so recording never contends.
 */
final class Recorder {
  static final double[] PERCENTILES = {10, 25, 50, 75, 90, 95, 99, 99.9};
  private static final long HIGHEST_NANOS = TimeUnit.MINUTES.toNanos(5);

  final Histogram latency = new Histogram(HIGHEST_NANOS, 3);
  final Map<Integer, Long> statuses = new TreeMap<>();
  long errors;
  long mismatches;
  long bytes;
  long minBytes = Long.MAX_VALUE;
  long maxBytes;
  final Map<String, Long> errorKinds = new TreeMap<>();

  void ok(long nanos, HttpConnection.Response r) {
    latency.recordValue(Math.min(Math.max(nanos, 1), HIGHEST_NANOS));
    statuses.merge(r.status(), 1L, Long::sum);
    bytes += r.bodyBytes();
    minBytes = Math.min(minBytes, r.bodyBytes());
    maxBytes = Math.max(maxBytes, r.bodyBytes());
  }

  void mismatch() {
    mismatches++;
  }

  void error(Throwable e) {
    errors++;
    String kind =
        e.getClass().getSimpleName() + (e.getMessage() != null ? ": " + e.getMessage() : "");
    errorKinds.merge(kind.length() > 120 ? kind.substring(0, 120) : kind, 1L, Long::sum);
  }

  void add(Recorder other) {
    latency.add(other.latency);
    other.statuses.forEach((k, v) -> statuses.merge(k, v, Long::sum));
    other.errorKinds.forEach((k, v) -> errorKinds.merge(k, v, Long::sum));
    errors += other.errors;
    mismatches += other.mismatches;
    bytes += other.bytes;
    minBytes = Math.min(minBytes, other.minBytes);
    maxBytes = Math.max(maxBytes, other.maxBytes);
  }

  long responses() {
    return latency.getTotalCount();
  }

  long successes() {
    long n = 0;
    for (Map.Entry<Integer, Long> e : statuses.entrySet()) {
      if (e.getKey() >= 200 && e.getKey() < 400) {
        n += e.getValue();
      }
    }
    return n - mismatches;
  }

  /** Latency summary in milliseconds. */
  static Map<String, Object> summary(Histogram h) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("count", h.getTotalCount());
    if (h.getTotalCount() == 0) {
      return m;
    }
    m.put("min", ms(h.getMinValue()));
    m.put("mean", h.getMean() / 1e6);
    m.put("stddev", h.getStdDeviation() / 1e6);
    for (double p : PERCENTILES) {
      m.put(pName(p), ms(h.getValueAtPercentile(p)));
    }
    m.put("max", ms(h.getMaxValue()));
    return m;
  }

  static String pName(double p) {
    return p == Math.rint(p) ? "p" + (long) p : "p" + String.valueOf(p).replace('.', '_');
  }

  /** Percentile curve for the latency charts: [percentile, ms] points, log-spaced toward 100. */
  static List<Object> distribution(Histogram h) {
    List<Object> points = new ArrayList<>();
    if (h.getTotalCount() == 0) {
      return points;
    }
    double[] ps = {
      0, 10, 20, 30, 40, 50, 60, 70, 75, 80, 85, 90, 92.5, 95, 96, 97, 97.5, 98, 98.5, 99, 99.25,
      99.5, 99.75, 99.9, 99.95, 99.99, 100
    };
    for (double p : ps) {
      points.add(List.of(p, ms(h.getValueAtPercentile(p))));
    }
    return points;
  }

  static double ms(long nanos) {
    return nanos / 1e6;
  }

  Map<String, Object> toJson(double seconds) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("requests", responses() + errors);
    m.put("ok", successes());
    m.put("errors", errors + mismatches + (responses() - mismatches - successes()));
    m.put("transport_errors", errors);
    m.put("body_mismatches", mismatches);
    Map<String, Object> s = new LinkedHashMap<>();
    statuses.forEach((k, v) -> s.put(String.valueOf(k), v));
    m.put("status_counts", s);
    if (!errorKinds.isEmpty()) {
      m.put("error_kinds", new LinkedHashMap<String, Object>(errorKinds));
    }
    m.put("duration_s", seconds);
    m.put("throughput_rps", seconds > 0 ? responses() / seconds : 0.0);
    Map<String, Object> size = new LinkedHashMap<>();
    size.put("min", responses() == 0 ? 0 : minBytes);
    size.put("max", maxBytes);
    size.put("mean", responses() == 0 ? 0.0 : (double) bytes / responses());
    size.put("total", bytes);
    m.put("response_bytes", size);
    m.put("latency_ms", summary(latency));
    m.put("distribution", distribution(latency));
    return m;
  }
}
