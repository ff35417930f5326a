package dev.locallambdas.metrics;

import dev.locallambdas.cache.CacheStats;
import dev.locallambdas.cache.ResponseCache;
import dev.locallambdas.function.FunctionPool;
import dev.locallambdas.function.InstanceState;
import dev.locallambdas.function.InstanceView;
import dev.locallambdas.function.PoolStatus;
import dev.locallambdas.function.Supervisor;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.expositionformats.ExpositionFormatWriter;
import io.prometheus.metrics.expositionformats.ExpositionFormats;
import io.prometheus.metrics.instrumentation.jvm.JvmMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.Unit;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Function;

/**
 * The gateway's Prometheus metrics (docs/observability.md lists them): one registry holding the
 * per-function instruments ({@link FunctionMetrics}), the front door's connection and rejection
 * counts, gauges read from the pools and the cache when scraped, and the JVM's memory and GC. Built
 * on the Prometheus Java client 1.x, classic histograms only and without exemplars: ADR 0014 has
 * the measurements behind that choice. Thread-safe.
 */
public final class GatewayMetrics {
  /** Request and queue latencies, seconds: 100 µs (a warm pipe call) to 30 s. */
  static final double[] LATENCY_BOUNDS = {
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
    30
  };

  /** Start-up phases, seconds: 1 ms (a fork) to 30 s (a slow JVM). */
  static final double[] START_BOUNDS = {
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30
  };

  private final PrometheusRegistry registry = new PrometheusRegistry();
  // Both are made at the first scrape, not at start: reading Prometheus's properties and the
  // JVM's management beans costs the gateway's start more than anything else it does before it
  // answers (a JFR profile of the start, docs/cold-starts.md), and nothing needs them before a
  // scrape. The JVM collectors read their beans when scraped, so registering late loses nothing.
  private ExpositionFormats formats; // guarded by this
  private volatile boolean jvmWanted;
  private boolean jvmRegistered; // guarded by this
  private final ConcurrentHashMap<String, FunctionMetrics> functions = new ConcurrentHashMap<>();
  private final long startMillis = System.currentTimeMillis();
  private final LongAdder openConnections = new LongAdder();
  private final LongAdder connections = new LongAdder();

  final Counter requests;
  final Histogram duration;
  final Histogram queueWait;
  final Counter bytesIn;
  final Counter bytesOut;
  final Counter coldStarts;
  final Histogram spawn;
  final Histogram ready;
  final Histogram firstResponse;
  final Counter startFailures;
  final Counter stops;
  final Counter timeouts;
  private final Counter rejected;

  public GatewayMetrics() {
    requests =
        Counter.builder()
            .name("local_lambdas_requests_total")
            .help("Requests routed to a function, by method and status class")
            .labelNames("function", "method", "status")
            .withoutExemplars()
            .register(registry);
    duration =
        histogram(
            "local_lambdas_request_duration_seconds",
            "Time from the request head to the end of the response",
            LATENCY_BOUNDS);
    queueWait =
        histogram(
            "local_lambdas_queue_wait_seconds",
            "Time a request waited for a free instance slot",
            LATENCY_BOUNDS);
    bytesIn = counter("local_lambdas_request_body_bytes_total", "Request body bytes received");
    bytesOut = counter("local_lambdas_response_body_bytes_total", "Response body bytes sent");
    coldStarts = counter("local_lambdas_cold_starts_total", "Instances started that became ready");
    spawn =
        histogram(
            "local_lambdas_cold_start_spawn_seconds",
            "Cold start: from the start request to a running process (fork, exec, transport set-up)",
            START_BOUNDS);
    ready =
        histogram(
            "local_lambdas_cold_start_ready_seconds",
            "Cold start: from the running process to its readiness signal (the child's own start-up)",
            START_BOUNDS);
    firstResponse =
        histogram(
            "local_lambdas_cold_start_first_response_seconds",
            "Cold start: the first request of a fresh instance, from its slot to the response head",
            START_BOUNDS);
    startFailures =
        counter("local_lambdas_start_failures_total", "Instance starts that failed or timed out");
    stops =
        Counter.builder()
            .name("local_lambdas_instance_stops_total")
            .help(
                "Instances that stopped after being ready, by cause (crash, timeout, recycle,"
                    + " idle, admin, shutdown)")
            .labelNames("function", "cause")
            .withoutExemplars()
            .register(registry);
    timeouts =
        Counter.builder()
            .name("local_lambdas_timeouts_total")
            .help("Timeouts by kind: request (504), queue (503) and startup")
            .labelNames("function", "kind")
            .withoutExemplars()
            .register(registry);
    rejected =
        Counter.builder()
            .name("local_lambdas_rejected_requests_total")
            .help(
                "Requests the gateway answered itself with an error before or instead of a function"
                    + " (strict front door, limits, full queue, crash-loop back-off), by status and"
                    + " reason")
            .labelNames("code", "reason")
            .withoutExemplars()
            .register(registry);
    GaugeWithCallback.builder()
        .name("local_lambdas_open_connections")
        .help("Client connections open now")
        .callback(cb -> cb.call((double) openConnections.sum()))
        .register(registry);
    CounterWithCallback.builder()
        .name("local_lambdas_connections_total")
        .help("Client connections accepted")
        .callback(cb -> cb.call((double) connections.sum()))
        .register(registry);
    GaugeWithCallback.builder()
        .name("local_lambdas_start_time_seconds")
        .help("When the gateway started, in seconds since the epoch")
        .unit(Unit.SECONDS)
        .callback(cb -> cb.call(startMillis / 1000.0))
        .register(registry);
  }

  private Counter counter(String name, String help) {
    return Counter.builder()
        .name(name)
        .help(help)
        .labelNames("function")
        .withoutExemplars()
        .register(registry);
  }

  private Histogram histogram(String name, String help, double[] bounds) {
    return Histogram.builder()
        .name(name)
        .help(help)
        .unit(Unit.SECONDS)
        .labelNames("function")
        .classicOnly()
        .classicUpperBounds(bounds)
        .withoutExemplars()
        .register(registry);
  }

  /** The instruments of one function (created on first use). */
  public FunctionMetrics function(String id) {
    FunctionMetrics f = functions.get(id);
    return f != null ? f : functions.computeIfAbsent(id, k -> new FunctionMetrics(this, k));
  }

  /** When the gateway started, in milliseconds since the epoch. */
  public long startMillis() {
    return startMillis;
  }

  // ---------------------------------------------------------------- the front door

  public void connectionOpened() {
    connections.increment();
    openConnections.increment();
  }

  public void connectionClosed() {
    openConnections.decrement();
  }

  /** The gateway answered with its own error: {@code reason} is the problem type. */
  public void rejected(int status, String reason) {
    rejected.labelValues(Integer.toString(status), reason).inc();
  }

  // ---------------------------------------------------------------- read when scraped

  /**
   * Registers the gauges read from the pools (instances by state, queue length, in flight,
   * back-off) and the cache counters, read at each scrape.
   */
  public void watch(Supervisor supervisor, ResponseCache cache) {
    GaugeWithCallback.builder()
        .name("local_lambdas_instances")
        .help("Instances by state (starting, ready, draining)")
        .labelNames("function", "state")
        .callback(
            cb -> {
              for (FunctionPool pool : supervisor.pools()) {
                Map<InstanceState, Integer> counts = new EnumMap<>(InstanceState.class);
                for (InstanceState s : InstanceState.values()) {
                  counts.put(s, 0);
                }
                for (InstanceView v : pool.instances()) {
                  counts.merge(v.state(), 1, Integer::sum);
                }
                counts.forEach(
                    (s, n) -> {
                      if (s != InstanceState.STOPPED) {
                        cb.call(n, pool.spec().id(), s.name().toLowerCase(Locale.ROOT));
                      }
                    });
              }
            })
        .register(registry);
    poolGauge(
        supervisor,
        "local_lambdas_queue_length",
        "Requests waiting for a slot now",
        PoolStatus::waiting);
    poolGauge(
        supervisor,
        "local_lambdas_in_flight_requests",
        "Requests being served by an instance now",
        PoolStatus::inFlight);
    poolGauge(
        supervisor,
        "local_lambdas_consecutive_failures",
        "Failed starts and crashes since the last success (the crash-loop back-off grows with it)",
        PoolStatus::failures);
    poolGauge(
        supervisor,
        "local_lambdas_backoff_remaining_seconds",
        "How long new starts still wait in the crash-loop back-off (0: none)",
        s -> s.backoffRemainingNanos() / 1e9);
    poolGauge(
        supervisor,
        "local_lambdas_drained",
        "1 while the function is drained through the admin API",
        s -> s.drained() ? 1 : 0);
    if (cache == null) {
      return;
    }
    cacheCounter(
        supervisor,
        cache,
        "local_lambdas_cache_hits_total",
        "Answered from the cache",
        CacheStats::hits);
    cacheCounter(
        supervisor,
        cache,
        "local_lambdas_cache_misses_total",
        "Cacheable requests the cache could not answer",
        CacheStats::misses);
    cacheCounter(
        supervisor,
        cache,
        "local_lambdas_cache_bypasses_total",
        "Requests that went past the cache (no-store, unsafe methods)",
        CacheStats::bypasses);
    cacheCounter(
        supervisor,
        cache,
        "local_lambdas_cache_stores_total",
        "Responses stored",
        CacheStats::stores);
    cacheCounter(
        supervisor,
        cache,
        "local_lambdas_cache_evictions_total",
        "Stored responses dropped for space or expiry",
        CacheStats::evictions);
    GaugeWithCallback.builder()
        .name("local_lambdas_cache_stored_bytes")
        .help("Estimated memory held by stored responses")
        .unit(Unit.BYTES)
        .labelNames("function")
        .callback(
            cb -> {
              for (FunctionPool pool : supervisor.pools()) {
                String id = pool.spec().id();
                if (cache.function(id) != null) {
                  cb.call((double) cache.stats(id).bytes(), id);
                }
              }
            })
        .register(registry);
  }

  private void poolGauge(
      Supervisor supervisor, String name, String help, Function<PoolStatus, Number> value) {
    GaugeWithCallback.builder()
        .name(name)
        .help(help)
        .labelNames("function")
        .callback(
            cb -> {
              for (FunctionPool pool : supervisor.pools()) {
                cb.call(value.apply(pool.status()).doubleValue(), pool.spec().id());
              }
            })
        .register(registry);
  }

  private void cacheCounter(
      Supervisor supervisor,
      ResponseCache cache,
      String name,
      String help,
      Function<CacheStats, Long> value) {
    CounterWithCallback.builder()
        .name(name)
        .help(help)
        .labelNames("function")
        .callback(
            cb -> {
              for (FunctionPool pool : supervisor.pools()) {
                String id = pool.spec().id();
                if (cache.function(id) != null) {
                  cb.call((double) value.apply(cache.stats(id)), id);
                }
              }
            })
        .register(registry);
  }

  /** Adds the JVM's memory, GC, thread and class-loading metrics (once per registry). */
  public void watchJvm() {
    jvmWanted = true;
  }

  /**
   * The exposition formats, with the JVM collectors registered first when they are wanted. Scrapes
   * are rare: a lock is fine.
   */
  private synchronized ExpositionFormats formats() {
    if (jvmWanted && !jvmRegistered) {
      JvmMetrics.builder().register(registry);
      jvmRegistered = true;
    }
    if (formats == null) {
      formats = ExpositionFormats.init();
    }
    return formats;
  }

  // ---------------------------------------------------------------- exposition

  /** A rendered scrape. */
  @SuppressWarnings("ArrayRecordComponent")
  public record Scrape(String contentType, byte[] body) {}

  /**
   * Renders every metric in the format the Accept header asks for: OpenMetrics when it names
   * application/openmetrics-text, else the Prometheus text format 0.0.4.
   */
  public Scrape scrape(String accept) {
    ExpositionFormats f = formats();
    ExpositionFormatWriter writer =
        accept != null && accept.contains("application/openmetrics-text")
            ? f.getOpenMetricsTextFormatWriter()
            : f.getPrometheusTextFormatWriter();
    ByteArrayOutputStream out = new ByteArrayOutputStream(16 * 1024);
    try {
      writer.write(out, registry.scrape());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return new Scrape(writer.getContentType(), out.toByteArray());
  }

  PrometheusRegistry registry() {
    return registry;
  }
}
