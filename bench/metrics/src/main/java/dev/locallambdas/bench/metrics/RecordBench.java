package dev.locallambdas.bench.metrics;

import dev.locallambdas.metrics.CompletedRequest;
import dev.locallambdas.metrics.FunctionMetrics;
import dev.locallambdas.metrics.GatewayMetrics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import io.prometheus.metrics.core.datapoints.DistributionDataPoint;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * What recording one request costs, from two threads at once (the gateway's two event loops on
 * this machine), for each way of doing it: nothing (the floor), the gateway's own {@link
 * FunctionMetrics} (Prometheus client 1.x, classic histograms, no exemplars, cached data points,
 * plus the recent-requests ring), the Prometheus client with its defaults (classic + native
 * histograms, exemplars on, label lookup per call), and Micrometer's Prometheus registry. Each
 * records what the gateway records per request: a request counter, a duration histogram, a
 * queue-wait histogram and two byte counters.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@Threads(2)
@State(Scope.Benchmark)
public class RecordBench {
  static final double[] BOUNDS = {
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
    10, 30
  };

  /** A request as the front door hands it over (its access-log entry). */
  record Done(
      String requestId,
      String method,
      String path,
      int status,
      String instance,
      long durationNanos,
      long endNanos,
      long bytesIn,
      long bytesOut)
      implements CompletedRequest {}

  private final Done request = new Done("id", "GET", "/fn/x", 200, "fn#1", 85_000, 1, 0, 120);

  private FunctionMetrics gateway;

  private io.prometheus.metrics.core.metrics.Counter promRequests;
  private Histogram promDuration;
  private Histogram promQueue;
  private io.prometheus.metrics.core.metrics.Counter promIn;
  private io.prometheus.metrics.core.metrics.Counter promOut;

  private Counter mmRequests;
  private Timer mmDuration;
  private Timer mmQueue;
  private DistributionSummary mmIn;
  private DistributionSummary mmOut;

  @Setup
  public void setUp() {
    gateway = new GatewayMetrics().function("fn");

    PrometheusRegistry registry = new PrometheusRegistry();
    promRequests =
        io.prometheus.metrics.core.metrics.Counter.builder()
            .name("requests_total")
            .labelNames("function", "method", "status")
            .register(registry);
    promDuration =
        Histogram.builder()
            .name("duration_seconds")
            .labelNames("function")
            .classicUpperBounds(BOUNDS)
            .register(registry);
    promQueue =
        Histogram.builder()
            .name("queue_seconds")
            .labelNames("function")
            .classicUpperBounds(BOUNDS)
            .register(registry);
    promIn =
        io.prometheus.metrics.core.metrics.Counter.builder()
            .name("in_bytes_total")
            .labelNames("function")
            .register(registry);
    promOut =
        io.prometheus.metrics.core.metrics.Counter.builder()
            .name("out_bytes_total")
            .labelNames("function")
            .register(registry);

    PrometheusMeterRegistry mm = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    mmRequests =
        Counter.builder("requests")
            .tags("function", "fn", "method", "GET", "status", "2xx")
            .register(mm);
    Duration[] slos = new Duration[BOUNDS.length];
    for (int i = 0; i < BOUNDS.length; i++) {
      slos[i] = Duration.ofNanos((long) (BOUNDS[i] * 1e9));
    }
    mmDuration = Timer.builder("duration").tags("function", "fn").serviceLevelObjectives(slos).register(mm);
    mmQueue = Timer.builder("queue").tags("function", "fn").serviceLevelObjectives(slos).register(mm);
    mmIn = DistributionSummary.builder("in").baseUnit("bytes").tags("function", "fn").register(mm);
    mmOut = DistributionSummary.builder("out").baseUnit("bytes").tags("function", "fn").register(mm);
    cache();
    tune();
  }

  @Benchmark
  public void nothing(Blackhole bh) {
    bh.consume(request);
  }

  @Benchmark
  public void gatewayFunctionMetrics() {
    gateway.queueWait(2_000);
    gateway.completed(request);
  }

  @Benchmark
  public void prometheusDefaultsLabelLookupPerCall() {
    promQueue.labelValues("fn").observe(2e-6);
    promRequests.labelValues("fn", "GET", "2xx").inc();
    promDuration.labelValues("fn").observe(request.durationNanos() / 1e9);
    promIn.labelValues("fn").inc(request.bytesIn());
    promOut.labelValues("fn").inc(request.bytesOut());
  }

  private CounterDataPoint cachedRequests;
  private DistributionDataPoint cachedDuration;
  private DistributionDataPoint cachedQueue;
  private CounterDataPoint cachedIn;
  private CounterDataPoint cachedOut;

  private void cache() {
    cachedRequests = promRequests.labelValues("fn", "GET", "2xx");
    cachedDuration = promDuration.labelValues("fn");
    cachedQueue = promQueue.labelValues("fn");
    cachedIn = promIn.labelValues("fn");
    cachedOut = promOut.labelValues("fn");
  }

  @Benchmark
  public void prometheusDefaultsCachedDataPoints() {
    cachedQueue.observe(2e-6);
    cachedRequests.inc();
    cachedDuration.observe(request.durationNanos() / 1e9);
    cachedIn.inc(request.bytesIn());
    cachedOut.inc(request.bytesOut());
  }

  private CounterDataPoint tunedRequests;
  private DistributionDataPoint tunedDuration;
  private DistributionDataPoint tunedQueue;
  private CounterDataPoint tunedIn;
  private CounterDataPoint tunedOut;

  /** Classic histograms only, no exemplars, data points looked up once: as the gateway does. */
  private void tune() {
    PrometheusRegistry registry = new PrometheusRegistry();
    tunedRequests =
        io.prometheus.metrics.core.metrics.Counter.builder()
            .name("requests_total")
            .labelNames("function", "method", "status")
            .withoutExemplars()
            .register(registry)
            .labelValues("fn", "GET", "2xx");
    tunedDuration =
        Histogram.builder()
            .name("duration_seconds")
            .labelNames("function")
            .classicOnly()
            .classicUpperBounds(BOUNDS)
            .withoutExemplars()
            .register(registry)
            .labelValues("fn");
    tunedQueue =
        Histogram.builder()
            .name("queue_seconds")
            .labelNames("function")
            .classicOnly()
            .classicUpperBounds(BOUNDS)
            .withoutExemplars()
            .register(registry)
            .labelValues("fn");
    tunedIn =
        io.prometheus.metrics.core.metrics.Counter.builder()
            .name("in_bytes_total")
            .labelNames("function")
            .withoutExemplars()
            .register(registry)
            .labelValues("fn");
    tunedOut =
        io.prometheus.metrics.core.metrics.Counter.builder()
            .name("out_bytes_total")
            .labelNames("function")
            .withoutExemplars()
            .register(registry)
            .labelValues("fn");
  }

  @Benchmark
  public void prometheusClassicOnlyNoExemplarsCached() {
    tunedQueue.observe(2e-6);
    tunedRequests.inc();
    tunedDuration.observe(request.durationNanos() / 1e9);
    tunedIn.inc(request.bytesIn());
    tunedOut.inc(request.bytesOut());
  }

  @Benchmark
  public void micrometer() {
    mmQueue.record(2_000, TimeUnit.NANOSECONDS);
    mmRequests.increment();
    mmDuration.record(request.durationNanos(), TimeUnit.NANOSECONDS);
    mmIn.record(request.bytesIn());
    mmOut.record(request.bytesOut());
  }
}
