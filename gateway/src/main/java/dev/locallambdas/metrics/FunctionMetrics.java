package dev.locallambdas.metrics;

import dev.locallambdas.function.PoolObserver;
import dev.locallambdas.function.StopCause;
import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import io.prometheus.metrics.core.datapoints.DistributionDataPoint;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.model.snapshots.ClassicHistogramBuckets;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * One function's instruments. The per-request path ({@link #completed}, {@link #queueWait}) uses
 * data points looked up once and kept here, so recording a request is a few striped-counter
 * increments and no allocation (ADR 0014); lifecycle events arrive through {@link PoolObserver}.
 * Also keeps what the dashboard shows besides numbers: the last requests and the last lifecycle
 * events.
 */
public final class FunctionMetrics implements PoolObserver {
  static final String[] METHODS = {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"};
  static final String[] STATUS_CLASSES = {"none", "1xx", "2xx", "3xx", "4xx", "5xx"};
  private static final int RECENT_REQUESTS = 32;
  private static final int RECENT_EVENTS = 20;

  private final GatewayMetrics family;
  private final String id;

  /** Per (method, status class); filled lazily: two loops filling one slot get the same point. */
  private final CounterDataPoint[] requests =
      new CounterDataPoint[METHODS.length * STATUS_CLASSES.length];

  private final DistributionDataPoint duration;
  private final DistributionDataPoint queueWait;
  private final DistributionDataPoint firstResponse;
  private final CounterDataPoint bytesIn;
  private final CounterDataPoint bytesOut;

  private final AtomicReferenceArray<CompletedRequest> recent =
      new AtomicReferenceArray<>(RECENT_REQUESTS);
  private final AtomicLong recentNext = new AtomicLong();
  private final ArrayDeque<Event> events = new ArrayDeque<>(RECENT_EVENTS);

  private volatile ColdStart lastColdStart;

  /** A lifecycle event for the dashboard; {@code lines}: the instance's last output, if any. */
  public record Event(long epochMillis, String instance, String what, List<String> lines) {}

  /** The split of the last cold start, in nanoseconds ({@code firstResponse} -1 until known). */
  public record ColdStart(
      String instance, long epochMillis, long spawn, long ready, long firstResponse) {}

  FunctionMetrics(GatewayMetrics family, String id) {
    this.family = family;
    this.id = id;
    this.duration = family.duration.labelValues(id);
    this.queueWait = family.queueWait.labelValues(id);
    this.firstResponse = family.firstResponse.labelValues(id);
    this.bytesIn = family.bytesIn.labelValues(id);
    this.bytesOut = family.bytesOut.labelValues(id);
  }

  public String id() {
    return id;
  }

  // ---------------------------------------------------------------- per request (event loops)

  /** A request to this function is over (answered, refused or abandoned). */
  public void completed(CompletedRequest r) {
    int status = r.status();
    int statusClass = status >= 100 && status < 600 ? status / 100 : 0;
    int method = methodIndex(r.method());
    CounterDataPoint point;
    if (method >= 0) {
      int slot = method * STATUS_CLASSES.length + statusClass;
      point = requests[slot];
      if (point == null) {
        point = family.requests.labelValues(id, METHODS[method], STATUS_CLASSES[statusClass]);
        requests[slot] = point;
      }
    } else {
      point = family.requests.labelValues(id, r.method(), STATUS_CLASSES[statusClass]);
    }
    point.inc();
    duration.observe(r.durationNanos() / 1e9);
    long in = r.bytesIn();
    if (in > 0) {
      bytesIn.inc(in);
    }
    long out = r.bytesOut();
    if (out > 0) {
      bytesOut.inc(out);
    }
    // Last requests for the dashboard: a ring written with release stores (no lock).
    int slot = (int) (recentNext.getAndIncrement() & (RECENT_REQUESTS - 1));
    recent.lazySet(slot, r);
  }

  /** How long a request waited for its slot (0 when one was free). */
  public void queueWait(long nanos) {
    queueWait.observe(nanos / 1e9);
  }

  /** The first response of a freshly started instance took this long from its grant. */
  public void firstResponse(long nanos) {
    firstResponse.observe(nanos / 1e9);
    ColdStart c = lastColdStart;
    if (c != null && c.firstResponse() < 0) {
      lastColdStart = new ColdStart(c.instance(), c.epochMillis(), c.spawn(), c.ready(), nanos);
    }
  }

  /** The gateway answered a request to this function with its own error (a refusal). */
  public void rejected(int status, String reason) {
    family.rejected(status, reason);
  }

  /** A request timed out in an instance (the gateway answered 504 and replaced it). */
  public void requestTimedOut() {
    family.timeouts.labelValues(id, "request").inc();
  }

  private static int methodIndex(String method) {
    for (int i = 0; i < METHODS.length; i++) {
      if (METHODS[i].equals(method)) {
        return i;
      }
    }
    return -1;
  }

  // ---------------------------------------------------------------- lifecycle (PoolObserver)

  @Override
  public void started(String instance, long pid, long spawnNanos, long readyNanos) {
    family.coldStarts.labelValues(id).inc();
    family.spawn.labelValues(id).observe(spawnNanos / 1e9);
    family.ready.labelValues(id).observe(readyNanos / 1e9);
    lastColdStart = new ColdStart(instance, System.currentTimeMillis(), spawnNanos, readyNanos, -1);
    event(
        instance,
        "ready (pid "
            + pid
            + ", spawn "
            + millis(spawnNanos)
            + " ms, ready "
            + millis(readyNanos)
            + " ms)",
        List.of());
  }

  @Override
  public void startFailed(String instance, String reason, boolean timedOut) {
    family.startFailures.labelValues(id).inc();
    if (timedOut) {
      family.timeouts.labelValues(id, "startup").inc();
    }
    event(instance, "failed to start: " + reason, List.of());
  }

  @Override
  public void stopped(String instance, StopCause cause, String exit, List<String> lastOutput) {
    family.stops.labelValues(id, cause.label()).inc();
    String what =
        switch (cause) {
          case CRASH -> "crashed (" + exit + "); a new instance starts when needed";
          case TIMEOUT -> "killed after a request timeout (" + exit + ")";
          case RECYCLE -> "recycled after max_requests_per_instance";
          case IDLE -> "stopped after its idle timeout";
          case ADMIN -> "stopped through the admin API";
          case RELOAD -> "replaced or removed by a reload";
          case SHUTDOWN -> "stopped: the gateway is shutting down";
        };
    int from = Math.max(0, lastOutput.size() - 10);
    event(
        instance,
        what,
        cause == StopCause.CRASH || cause == StopCause.TIMEOUT
            ? List.copyOf(lastOutput.subList(from, lastOutput.size()))
            : List.of());
  }

  @Override
  public void queueTimedOut() {
    family.timeouts.labelValues(id, "queue").inc();
  }

  private void event(String instance, String what, List<String> lines) {
    synchronized (events) {
      if (events.size() == RECENT_EVENTS) {
        events.removeFirst();
      }
      events.addLast(new Event(System.currentTimeMillis(), instance, what, lines));
    }
  }

  private static long millis(long nanos) {
    return Math.round(nanos / 1e6);
  }

  // ---------------------------------------------------------------- views (admin API)

  /** The last lifecycle events, oldest first. */
  public List<Event> events() {
    synchronized (events) {
      return List.copyOf(events);
    }
  }

  /** The last completed requests, newest first. */
  public List<CompletedRequest> recentRequests() {
    long next = recentNext.get();
    List<CompletedRequest> out = new ArrayList<>(RECENT_REQUESTS);
    for (long i = next - 1; i >= 0 && i >= next - RECENT_REQUESTS; i--) {
      CompletedRequest r = recent.get((int) (i & (RECENT_REQUESTS - 1)));
      if (r != null) {
        out.add(r);
      }
    }
    return out;
  }

  /**
   * This function's counters now, read from the registry (as a scrape would): requests by status
   * class, the request-duration histogram (upper bounds and cumulative counts), body bytes, cold
   * starts, failed starts, stops by cause and timeouts by kind.
   */
  public Numbers numbers() {
    long[] byClass = new long[STATUS_CLASSES.length];
    for (CounterSnapshot.CounterDataPointSnapshot p : family.requests.collect().getDataPoints()) {
      if (id.equals(p.getLabels().get("function"))) {
        int i = List.of(STATUS_CLASSES).indexOf(p.getLabels().get("status"));
        byClass[Math.max(i, 0)] += (long) p.getValue();
      }
    }
    double[] bounds = new double[0];
    long[] cumulative = new long[0];
    double sum = 0;
    for (HistogramSnapshot.HistogramDataPointSnapshot p :
        family.duration.collect().getDataPoints()) {
      if (id.equals(p.getLabels().get("function"))) {
        ClassicHistogramBuckets b = p.getClassicBuckets();
        bounds = new double[b.size()];
        cumulative = new long[b.size()];
        long running = 0;
        for (int i = 0; i < b.size(); i++) {
          running += b.getCount(i);
          bounds[i] = b.getUpperBound(i);
          cumulative[i] = running;
        }
        sum = p.getSum();
      }
    }
    return new Numbers(
        byClass,
        bounds,
        cumulative,
        sum,
        value(family.bytesIn),
        value(family.bytesOut),
        value(family.coldStarts),
        value(family.startFailures),
        byLabel(family.stops, "cause"),
        byLabel(family.timeouts, "kind"));
  }

  private long value(Counter counter) {
    long total = 0;
    for (CounterSnapshot.CounterDataPointSnapshot p : counter.collect().getDataPoints()) {
      if (id.equals(p.getLabels().get("function"))) {
        total += (long) p.getValue();
      }
    }
    return total;
  }

  private Map<String, Long> byLabel(Counter counter, String label) {
    Map<String, Long> out = new TreeMap<>();
    for (CounterSnapshot.CounterDataPointSnapshot p : counter.collect().getDataPoints()) {
      if (id.equals(p.getLabels().get("function"))) {
        out.merge(p.getLabels().get(label), (long) p.getValue(), Long::sum);
      }
    }
    return out;
  }

  /** See {@link #numbers()}; arrays are fresh copies. */
  @SuppressWarnings("ArrayRecordComponent")
  public record Numbers(
      long[] requestsByStatusClass,
      double[] latencyBounds,
      long[] latencyCumulative,
      double latencySumSeconds,
      long bytesIn,
      long bytesOut,
      long coldStarts,
      long startFailures,
      Map<String, Long> stops,
      Map<String, Long> timeouts) {
    /** Status class names in the order of {@link #requestsByStatusClass}. */
    public static List<String> statusClasses() {
      return List.of(STATUS_CLASSES);
    }
  }

  /** The last cold start's split, or null if none happened yet. */
  public ColdStart lastColdStart() {
    return lastColdStart;
  }
}
