package dev.locallambdas.admin;

import dev.locallambdas.cache.CacheStats;
import dev.locallambdas.cache.ResponseCache;
import dev.locallambdas.function.FunctionPool;
import dev.locallambdas.function.InstanceView;
import dev.locallambdas.function.PoolStatus;
import dev.locallambdas.manifest.FunctionSpec;
import dev.locallambdas.metrics.CompletedRequest;
import dev.locallambdas.metrics.FunctionMetrics;
import dev.locallambdas.metrics.GatewayMetrics;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The JSON of one function for the admin API and the dashboard: its settings, instances (with their
 * last output lines), live state (in flight, queue, back-off), counters (requests by status class,
 * latency histogram, bytes, cold starts and their split, stops by cause, timeouts, cache), the last
 * requests with their ids and the last lifecycle events.
 */
final class FunctionsView {
  private static final int OUTPUT_LINES = 20;

  private final ResponseCache cache;
  private final GatewayMetrics metrics;

  FunctionsView(ResponseCache cache, GatewayMetrics metrics) {
    this.cache = cache;
    this.metrics = metrics;
  }

  void write(Json j, FunctionPool pool) {
    FunctionSpec spec = pool.spec();
    PoolStatus status = pool.status();
    j.open();
    j.field("id", spec.id());
    j.field("protocol", spec.protocol().manifestName());
    j.array("routes");
    for (String r : spec.routes()) {
      j.value(r);
    }
    j.closeArray();
    j.field("drained", status.drained());
    // Set when the last reload (manifest or watched files) could not start the new code; the old
    // instances keep serving (docs/reload.md).
    j.field("reloadFailure", pool.reloadFailure());
    j.field("inFlight", status.inFlight());
    j.field("queueLength", status.waiting());
    j.field("consecutiveFailures", status.failures());
    j.field("backoffRemainingMs", status.backoffRemainingNanos() / 1_000_000);
    settings(j, spec);
    j.array("instances");
    for (InstanceView v : pool.instances()) {
      j.open();
      j.field("number", v.number());
      j.field("label", spec.id() + "#" + v.number());
      j.field("pid", v.pid());
      j.field("state", v.state().name().toLowerCase(Locale.ROOT));
      j.field("inFlight", v.inFlight());
      j.field("served", v.served());
      List<String> output = pool.recentOutput(v.number());
      j.array("output");
      for (String line : output.subList(Math.max(0, output.size() - OUTPUT_LINES), output.size())) {
        j.value(line);
      }
      j.closeArray();
      j.close();
    }
    j.closeArray();
    if (metrics != null) {
      counters(j, metrics.function(spec.id()));
    }
    if (cache != null && cache.function(spec.id()) != null) {
      CacheStats c = cache.stats(spec.id());
      j.open("cache");
      j.field("hits", c.hits());
      j.field("misses", c.misses());
      j.field("bypasses", c.bypasses());
      j.field("stores", c.stores());
      j.field("evictions", c.evictions());
      j.field("bytes", c.bytes());
      j.close();
    }
    j.close();
  }

  private static void settings(Json j, FunctionSpec spec) {
    j.open("settings");
    j.field("executable", spec.executable());
    j.array("args");
    for (String a : spec.args()) {
      j.value(a);
    }
    j.closeArray();
    j.field("workingDir", spec.workingDir() != null ? spec.workingDir().toString() : null);
    j.field("start", spec.startPolicy().name().toLowerCase(Locale.ROOT));
    j.field("minInstances", spec.minInstances());
    j.field("maxInstances", spec.maxInstances());
    j.field("concurrency", spec.concurrency());
    j.field("queueSize", spec.queueSize());
    j.field("queueTimeoutMs", millis(spec.queueTimeout()));
    j.field("requestTimeoutMs", millis(spec.requestTimeout()));
    j.field("startupTimeoutMs", millis(spec.startupTimeout()));
    j.field("idleTimeoutMs", millis(spec.idleTimeout()));
    j.field("stopGraceMs", millis(spec.stopGrace()));
    j.field("maxRequestsPerInstance", spec.maxRequestsPerInstance());
    j.field("maxBodyBytes", spec.maxBodyBytes());
    j.field("cache", spec.cache().mode().name().toLowerCase(Locale.ROOT));
    j.close();
  }

  private static long millis(Duration d) {
    try {
      return d.toMillis();
    } catch (ArithmeticException e) {
      return -1; // "never"
    }
  }

  private static void counters(Json j, FunctionMetrics f) {
    FunctionMetrics.Numbers n = f.numbers();
    long total = 0;
    for (long c : n.requestsByStatusClass()) {
      total += c;
    }
    j.open("requests");
    j.field("total", total);
    List<String> classes = FunctionMetrics.Numbers.statusClasses();
    for (int i = 0; i < classes.size(); i++) {
      j.field(classes.get(i), n.requestsByStatusClass()[i]);
    }
    j.close();
    j.open("latency");
    j.array("bounds");
    for (double b : n.latencyBounds()) {
      j.value(b);
    }
    j.closeArray();
    j.array("cumulative");
    for (long c : n.latencyCumulative()) {
      j.value(c);
    }
    j.closeArray();
    j.field("sumSeconds", n.latencySumSeconds());
    j.close();
    j.field("bytesIn", n.bytesIn());
    j.field("bytesOut", n.bytesOut());
    j.open("coldStarts");
    j.field("count", n.coldStarts());
    j.field("failures", n.startFailures());
    FunctionMetrics.ColdStart last = f.lastColdStart();
    if (last != null) {
      j.open("last");
      j.field("instance", last.instance());
      j.field("at", last.epochMillis());
      j.field("spawnMs", last.spawn() / 1e6);
      j.field("readyMs", last.ready() / 1e6);
      if (last.firstResponse() >= 0) {
        j.field("firstResponseMs", last.firstResponse() / 1e6);
      }
      j.close();
    }
    j.close();
    counts(j, "stops", n.stops());
    counts(j, "timeouts", n.timeouts());
    long nowNanos = System.nanoTime();
    long nowMillis = System.currentTimeMillis();
    j.array("recentRequests");
    for (CompletedRequest r : f.recentRequests()) {
      j.open();
      j.field("id", r.requestId());
      j.field("method", r.method());
      j.field("path", r.path());
      j.field("status", r.status());
      j.field("ms", r.durationNanos() / 1e6);
      j.field("instance", r.instance());
      j.field("at", nowMillis - (nowNanos - r.endNanos()) / 1_000_000);
      j.close();
    }
    j.closeArray();
    j.array("events");
    for (FunctionMetrics.Event e : f.events()) {
      j.open();
      j.field("at", e.epochMillis());
      j.field("instance", e.instance());
      j.field("what", e.what());
      j.array("lines");
      for (String line : e.lines()) {
        j.value(line);
      }
      j.closeArray();
      j.close();
    }
    j.closeArray();
  }

  private static void counts(Json j, String name, Map<String, Long> counts) {
    j.open(name);
    counts.forEach((k, v) -> j.field(k, v.longValue()));
    j.close();
  }
}
