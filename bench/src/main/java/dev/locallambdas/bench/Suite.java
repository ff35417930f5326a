package dev.locallambdas.bench;

import dev.locallambdas.function.FunctionPool;
import dev.locallambdas.function.InstanceView;
import dev.locallambdas.function.StartRecord;
import dev.locallambdas.manifest.ManifestException;
import dev.locallambdas.server.Gateway;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.Histogram;

/**
 * One benchmark run: starts a gateway in this JVM on a loopback port with the benchmark manifest,
 * runs the selected modes against it and writes results.json, report.md and the charts.
 */
final class Suite {
  static final int SCHEMA_VERSION = 1;
  private static final String[] CASE_NAMES = {
    "", "cached response", "HTTP, warm", "HTTP, cold start", "pipe, warm", "pipe, cold start"
  };

  /**
   * Other ways of starting a cold case's function, measured when the manifest has a function named
   * after the case's with the mode appended (cold-pipe-python-template, ...): a fork template, a
   * spare instance started ahead (the request finds a fresh process ready: what a recycle or a
   * burst sees), the JDK's AOT cache.
   */
  private static final List<String> COLD_MODES = List.of("template", "spare", "aot");

  private final Settings settings;
  private final PrintStream err;
  private Gateway gateway;
  private LoadEngine engine;
  private Progress progress;
  private final List<String> notes = new ArrayList<>();
  private Boolean cacheWorks;

  Suite(Settings settings, PrintStream err) {
    this.settings = settings;
    this.err = err;
  }

  /** Runs everything selected; returns the results document (also written to the out dir). */
  Map<String, Object> run() throws IOException, ManifestException {
    BenchManifest bm = BenchManifest.load(settings.manifest());
    notes.addAll(bm.notes());
    Files.createDirectories(settings.out());
    Map<String, Object> doc = new LinkedHashMap<>();
    doc.put("schema_version", SCHEMA_VERSION);
    doc.put("environment", environment());
    doc.put("settings", settingsJson());
    int steps = countSteps();
    long started = System.nanoTime();
    try (Progress p = new Progress(err, settings.progress(), steps);
        Gateway g =
            Gateway.start(
                bm.manifest(), new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
      this.progress = p;
      this.gateway = g;
      this.engine = new LoadEngine(g.address(), p);
      if (!settings.cases().isEmpty()) {
        doc.put("cases", runCases());
      }
      if (!settings.concurrency().isEmpty()) {
        doc.put("load", runLoad());
      }
      if (settings.rate() > 0) {
        doc.put("rate", runRate());
      }
      if (settings.payloadBytes() > 0) {
        doc.put("payload", runPayload());
      }
    }
    if (settings.cases().contains(5)) {
      Map<String, Object> own = gatewayStart(5);
      if (own != null) {
        doc.put("gateway_start", own);
      }
    }
    doc.put("wall_time_s", (System.nanoTime() - started) / 1e9);
    doc.put("notes", List.copyOf(notes));
    Files.writeString(settings.out().resolve("results.json"), Json.write(doc));
    Report.write(doc, settings.out());
    return doc;
  }

  private int countSteps() {
    int n = 0;
    for (int c : settings.cases()) {
      n += c == 1 ? 1 : settings.runtimes().size();
    }
    n += settings.concurrency().size() * settings.targets().size();
    n += settings.rate() > 0 ? settings.targets().size() : 0;
    n += settings.payloadBytes() > 0 ? Target.PAYLOAD.size() : 0;
    return n;
  }

  // ---- the five cases -----------------------------------------------------------------------

  private List<Object> runCases() {
    List<Object> out = new ArrayList<>();
    for (int c : settings.cases()) {
      if (c == 1) {
        out.add(cachedCase());
        continue;
      }
      for (String runtime : settings.runtimes()) {
        String transport = c <= 3 ? "http" : "pipe";
        boolean cold = c == 3 || c == 5;
        String id = (cold ? "cold-" : "") + transport + "-" + runtime;
        Target t = new Target(id, id, "/" + id + "/hello", transport, runtime);
        progress.begin("case " + c + " " + CASE_NAMES[c] + " " + runtime);
        out.add(cold ? coldCase(c, t, "plain") : warmCase(c, t));
        progress.end();
        if (!cold) {
          continue;
        }
        // The same function started the other ways, side by side, where the manifest has them.
        for (String mode : COLD_MODES) {
          String variant = id + "-" + mode;
          if (gateway.supervisor().pool(variant) == null) {
            continue;
          }
          Target v = new Target(variant, variant, "/" + variant + "/hello", transport, runtime);
          progress.begin("case " + c + " " + CASE_NAMES[c] + " " + runtime + " (" + mode + ")");
          out.add(coldCase(c, v, mode));
          progress.end();
        }
      }
    }
    return out;
  }

  private Map<String, Object> caseHead(int c, Target t, int requests, int warmup) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("case", c);
    m.put("name", CASE_NAMES[c]);
    m.put("runtime", t.runtime());
    m.put("transport", t.transport());
    m.put("function", t.function());
    m.put("path", t.path());
    m.put("warmup", warmup);
    m.put("measured_requests", requests);
    return m;
  }

  private Map<String, Object> cachedCase() {
    Target t = Target.CACHED;
    progress.begin("case 1 cached response");
    Map<String, Object> m = caseHead(1, t, settings.requests(), settings.warmup());
    try {
      if (!cacheAvailable()) {
        m.put("status", "unavailable");
        m.put(
            "note",
            "cache not available in this build: after warm-up the gateway answered "
                + t.path()
                + " without X-Cache: HIT");
        return m;
      }
      m.put("status", "ok");
      m.putAll(warmMeasure(t, settings.requests()));
      return m;
    } finally {
      progress.end();
    }
  }

  /** Warms the cached path and tells whether the gateway now answers it from its cache. */
  private boolean cacheAvailable() {
    if (cacheWorks == null) {
      try (HttpConnection c = new HttpConnection(gateway.address())) {
        byte[] head =
            HttpConnection.requestHead("GET", Target.CACHED.path(), gateway.address(), -1);
        String x = null;
        for (int i = 0; i < Math.max(3, settings.warmup()); i++) {
          x = c.exchange(head, null, null).xCache();
        }
        cacheWorks = x != null && x.toUpperCase(java.util.Locale.ROOT).startsWith("HIT");
      } catch (IOException e) {
        cacheWorks = false;
      }
      if (!cacheWorks) {
        notes.add(
            "cache not available in this build: case 1 and the cached load target were skipped");
      }
    }
    return cacheWorks;
  }

  private Map<String, Object> warmCase(int c, Target t) {
    Map<String, Object> m = caseHead(c, t, settings.requests(), settings.warmup());
    if (settings.warmup() > 0) {
      engine.sequential(LoadEngine.Request.get(t.path()), settings.warmup(), null);
    }
    m.put("status", "ok");
    m.putAll(warmMeasure(t, settings.requests()));
    return m;
  }

  /** Sequential requests on one keep-alive connection, with the processes' CPU and memory. */
  private Map<String, Object> warmMeasure(Target t, int requests) {
    FunctionPool pool = gateway.supervisor().pool(t.function());
    Map<Long, ProcStats> before = functionStats(pool);
    ProcStats self0 = ProcStats.self();
    LoadEngine.Run run = engine.sequential(LoadEngine.Request.get(t.path()), requests, null);
    ProcStats self1 = ProcStats.self();
    Map<Long, ProcStats> after = functionStats(pool);
    Map<String, Object> m = new LinkedHashMap<>(run.recorder().toJson(run.seconds()));
    m.put("gateway", gatewayJson(self0, self1, run.clientCpuNanos(), run.recorder().responses()));
    m.put("client", Map.of("cpu_ms", run.clientCpuNanos() / 1e6));
    m.put("function_processes", functionJson(before, after, run.recorder().responses()));
    return m;
  }

  private Map<String, Object> coldCase(int c, Target t, String mode) {
    int warmup = Math.min(settings.warmup(), 2);
    int n = settings.coldRequests();
    Map<String, Object> m = caseHead(c, t, n, warmup);
    m.put("mode", mode);
    if (!mode.equals("plain")) {
      m.put("name", CASE_NAMES[c] + " (" + mode + ")");
    }
    FunctionPool pool = gateway.supervisor().pool(t.function());
    boolean spare = mode.equals("spare");
    Runnable settle = spare ? () -> awaitOneSpare(pool) : () -> awaitNoInstance(pool);
    LoadEngine.Request req = LoadEngine.Request.get(t.path());
    for (int i = 0; i < warmup; i++) {
      settle.run();
      engine.sequential(req, 1, null);
    }
    if (mode.equals("template")) {
      awaitForkedStart(pool, req);
    }
    settle.run();
    int forked = 0;
    Histogram dispatch = new Histogram(3);
    Histogram spawn = new Histogram(3);
    Histogram ready = new Histogram(3);
    Histogram first = new Histogram(3);
    Recorder total = new Recorder();
    long clientCpu = 0;
    double seconds = 0;
    List<Long> peakRss = new ArrayList<>();
    ProcStats self0 = ProcStats.self();
    int missingSplits = 0;
    for (int i = 0; i < n; i++) {
      settle.run();
      long[] sent = new long[1];
      long[] pidSeen = {-1};
      LoadEngine.Run run =
          engine.sequential(
              req,
              1,
              t0 -> {
                sent[0] = t0;
                for (InstanceView v : pool.instances()) {
                  // Read the child's peak memory before the gateway retires it (best effort).
                  ProcStats ps = ProcStats.of(v.pid());
                  if (ps != null) {
                    peakRss.add(ps.peakRssKib());
                    pidSeen[0] = v.pid();
                  }
                }
              });
      long done = sent[0] + run.recorder().latency.getMaxValue();
      total.add(run.recorder());
      clientCpu += run.clientCpuNanos();
      seconds += run.seconds();
      StartRecord s = spare ? null : startAfter(pool, sent[0]);
      if (s != null && s.forked()) {
        forked++;
      }
      if (spare) {
        missingSplits++; // its process started before the request: there is nothing to split
      } else if (s == null || s.readyNanos() == 0) {
        missingSplits++;
      } else {
        dispatch.recordValue(Math.max(1, s.requestedNanos() - sent[0]));
        spawn.recordValue(Math.max(1, s.spawnDuration()));
        ready.recordValue(Math.max(1, s.readyDuration()));
        first.recordValue(Math.max(1, done - s.readyNanos()));
      }
      progress.fraction((i + 1) / (double) n);
    }
    settle.run();
    ProcStats self1 = ProcStats.self();
    m.put("status", "ok");
    if (mode.equals("template")) {
      m.put("forked_starts", forked);
    }
    m.putAll(total.toJson(seconds));
    m.put("gateway", gatewayJson(self0, self1, clientCpu, total.responses()));
    m.put("client", Map.of("cpu_ms", clientCpu / 1e6));
    Map<String, Object> fn = new LinkedHashMap<>();
    long childTicks =
        self1 != null && self0 != null ? self1.childCpuTicks() - self0.childCpuTicks() : 0;
    fn.put("processes_started", n);
    fn.put("cpu_ms", childTicks * ProcStats.TICK_MS);
    fn.put("cpu_ms_per_start", n > 0 ? childTicks * ProcStats.TICK_MS / (double) n : 0.0);
    fn.put(
        "peak_rss_kib_mean",
        peakRss.isEmpty() ? null : peakRss.stream().mapToLong(Long::longValue).average().orElse(0));
    fn.put("peak_rss_samples", peakRss.size());
    m.put("function_processes", fn);
    Map<String, Object> split = new LinkedHashMap<>();
    split.put("dispatch_ms", Recorder.summary(dispatch));
    split.put("spawn_ms", Recorder.summary(spawn));
    split.put("ready_ms", Recorder.summary(ready));
    split.put("first_response_ms", Recorder.summary(first));
    split.put("unsplit_requests", missingSplits);
    m.put("cold_start", split);
    return m;
  }

  /** The start of this pool that was asked for after {@code sentNanos}, if recorded. */
  private static StartRecord startAfter(FunctionPool pool, long sentNanos) {
    StartRecord found = null;
    for (StartRecord r : pool.recentStarts()) {
      if (r.requestedNanos() >= sentNanos) {
        found = r;
      }
    }
    return found;
  }

  /**
   * Waits until the pool holds exactly one instance, ready and idle: the spare that the previous
   * request had started, while the instance that served it has gone (max_requests_per_instance 1).
   */
  private static void awaitOneSpare(FunctionPool pool) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (true) {
      List<InstanceView> all = pool.instances();
      if (all.size() == 1
          && all.getFirst().state() == dev.locallambdas.function.InstanceState.READY
          && all.getFirst().inFlight() == 0) {
        return;
      }
      if (all.isEmpty() && pool.recentStarts().isEmpty()) {
        return; // before the first request there is no spare: that one is a plain cold start
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(
            "function " + pool.spec().id() + " has no single ready spare after 30 s: " + all);
      }
      LockSupport.parkNanos(200_000);
    }
  }

  /** Serves requests until the template has created an instance (it starts with the gateway). */
  private void awaitForkedStart(FunctionPool pool, LoadEngine.Request req) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (System.nanoTime() < deadline) {
      awaitNoInstance(pool);
      engine.sequential(req, 1, null);
      List<StartRecord> starts = pool.recentStarts();
      if (!starts.isEmpty() && starts.getLast().forked()) {
        return;
      }
    }
    notes.add(pool.spec().id() + ": its template created no instance within 30 s");
  }

  /**
   * Waits until the pool has no instance, so each cold request starts from nothing and the previous
   * instance's exit does not run alongside it.
   */
  private static void awaitNoInstance(FunctionPool pool) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!pool.instances().isEmpty()) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(
            "function "
                + pool.spec().id()
                + " still has instances 30 s after its last request: "
                + pool.instances());
      }
      LockSupport.parkNanos(200_000);
    }
  }

  // ---- the gateway's own start ----------------------------------------------------------------

  /**
   * The gateway's own cold start, as a user runs it (issue 14): {@code ./local-lambdas serve} on a
   * one-function manifest, from exec to the first answer (a GET of a path no function serves, on a
   * fresh connection every millisecond), and the JVM's resident memory 2 s later (the launcher
   * execs the JVM, so its pid is the one started). Only when the bench itself was started by the
   * launcher (LOCAL_LAMBDAS_HOME); null otherwise.
   */
  private Map<String, Object> gatewayStart(int runs) {
    String home = System.getenv("LOCAL_LAMBDAS_HOME");
    Path launcher = home == null ? null : Path.of(home, "local-lambdas");
    if (launcher == null || !Files.isExecutable(launcher)) {
      return null;
    }
    progress.begin("gateway start");
    try {
      Path manifest = settings.out().resolve("gateway-start-manifest.xml");
      Files.writeString(
          manifest,
          """
          <manifest version="1">
            <function>
              <id>hello</id>
              <executable>python3</executable>
              <arg>%s</arg>
              <route>/hello/*</route>
            </function>
          </manifest>
          """
              .formatted(Path.of(home, "bench", "core", "hello.py")));
      Histogram start = new Histogram(3);
      List<Double> rss = new ArrayList<>();
      for (int i = 0; i < runs; i++) {
        int port;
        try (java.net.ServerSocket probe =
            new java.net.ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
          port = probe.getLocalPort();
        }
        long t0 = System.nanoTime();
        Process p =
            new ProcessBuilder(
                    launcher.toString(),
                    "serve",
                    manifest.toString(),
                    "--bind",
                    "127.0.0.1:" + port,
                    "-q")
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(ProcessBuilder.Redirect.DISCARD)
                .start();
        try {
          while (!answers(port)) {
            if (!p.isAlive() || System.nanoTime() - t0 > TimeUnit.SECONDS.toNanos(60)) {
              notes.add("gateway start: the gateway did not answer (exit " + p.isAlive() + ")");
              return null;
            }
            LockSupport.parkNanos(1_000_000);
          }
          start.recordValue(System.nanoTime() - t0);
          LockSupport.parkNanos(TimeUnit.SECONDS.toNanos(2));
          ProcStats ps = ProcStats.of(p.pid());
          if (ps != null) {
            rss.add(ps.rssKib() / 1024.0);
          }
          progress.fraction((i + 1) / (double) runs);
        } finally {
          p.destroy();
          if (!p.waitFor(20, TimeUnit.SECONDS)) {
            p.destroyForcibly();
          }
        }
      }
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("command", "./local-lambdas serve MANIFEST --bind 127.0.0.1:PORT -q");
      m.put("runs", runs);
      m.put("first_answer_ms", Recorder.summary(start));
      m.put(
          "rss_idle_mib",
          rss.stream().sorted().toList().get(rss.size() / 2)); // the median of the samples
      return m;
    } catch (IOException | RuntimeException e) {
      notes.add("gateway start not measured: " + e);
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    } finally {
      progress.end();
    }
  }

  private static boolean answers(int port) {
    try (java.net.Socket s = new java.net.Socket(InetAddress.getLoopbackAddress(), port)) {
      s.setSoTimeout(5_000);
      s.getOutputStream()
          .write(
              "GET /no-such-route HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
                  .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
      byte[] head = s.getInputStream().readNBytes(9);
      return new String(head, java.nio.charset.StandardCharsets.US_ASCII).startsWith("HTTP/1.1");
    } catch (IOException e) {
      return false;
    }
  }

  // ---- load, rate, payload ------------------------------------------------------------------

  private List<Target> loadTargets() {
    List<Target> out = new ArrayList<>();
    for (Target t : settings.targets()) {
      if (t.equals(Target.CACHED) && !cacheAvailable()) {
        continue;
      }
      out.add(t);
    }
    return out;
  }

  private List<Object> runLoad() {
    List<Object> out = new ArrayList<>();
    for (Target t : loadTargets()) {
      warm(t);
      for (int c : settings.concurrency()) {
        progress.begin("load " + t.name() + " c=" + c);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("target", t.name());
        m.put("transport", t.transport());
        m.put("runtime", t.runtime());
        m.put("concurrency", c);
        m.putAll(
            measured(
                t, () -> engine.closed(LoadEngine.Request.get(t.path()), c, settings.duration())));
        out.add(m);
        progress.end();
      }
    }
    skipNote(out.isEmpty() && !settings.targets().isEmpty(), "load");
    return out;
  }

  private List<Object> runRate() {
    List<Object> out = new ArrayList<>();
    for (Target t : loadTargets()) {
      warm(t);
      progress.begin("rate " + t.name() + " " + (long) settings.rate() + "/s");
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("target", t.name());
      m.put("transport", t.transport());
      m.put("runtime", t.runtime());
      m.put("intended_rate_rps", settings.rate());
      m.put("connections", settings.rateConnections());
      LoadEngine.Run[] keep = new LoadEngine.Run[1];
      m.putAll(
          measured(
              t,
              () ->
                  keep[0] =
                      engine.open(
                          LoadEngine.Request.get(t.path()),
                          settings.rateConnections(),
                          settings.rate(),
                          settings.duration())));
      m.put("uncorrected_latency_ms", Recorder.summary(keep[0].uncorrected().latency));
      out.add(m);
      progress.end();
    }
    return out;
  }

  private List<Object> runPayload() {
    List<Object> out = new ArrayList<>();
    int size = settings.payloadBytes();
    List<Target> chosen = new ArrayList<>();
    for (Target t : Target.PAYLOAD) {
      // A frames twin runs with its pipe target; --targets narrows the payload run too.
      if (settings.runtimes().contains(t.runtime()) && settings.targets().contains(t.sibling())) {
        chosen.add(t);
      }
    }
    // Every target is warmed before any is measured (up to 64 MiB of echoes each): otherwise the
    // first one measured pays for the gateway's own JIT warm-up, and the targets are compared with
    // each other (a twin with shared memory against one without).
    int warmup = (int) Math.max(3, Math.min(500, (64L << 20) / Math.max(1, size)));
    for (Target t : chosen) {
      engine.sequential(new LoadEngine.Request("POST", t.path(), size), warmup, null);
    }
    for (Target t : chosen) {
      progress.begin("payload " + t.name() + " " + size + " B");
      LoadEngine.Request req = new LoadEngine.Request("POST", t.path(), size);
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("target", t.name());
      m.put("transport", t.transport());
      m.put("runtime", t.runtime());
      m.put("payload_bytes", size);
      m.put("concurrency", settings.payloadConcurrency());
      m.putAll(
          measured(
              t, () -> engine.closed(req, settings.payloadConcurrency(), settings.duration())));
      long ok = ((Number) m.get("ok")).longValue();
      long all = ((Number) m.get("requests")).longValue();
      double secs = ((Number) m.get("duration_s")).doubleValue();
      m.put("error_rate", all == 0 ? 0.0 : (all - ok) / (double) all);
      m.put("verified_mib_per_s", secs > 0 ? ok * (double) size / (1 << 20) / secs : 0.0);
      out.add(m);
      progress.end();
    }
    return out;
  }

  private void skipNote(boolean skipped, String mode) {
    if (skipped) {
      notes.add(mode + ": no target left to measure");
    }
  }

  private void warm(Target t) {
    if (settings.warmup() > 0) {
      engine.sequential(LoadEngine.Request.get(t.path()), settings.warmup(), null);
    }
  }

  private Map<String, Object> measured(Target t, java.util.function.Supplier<LoadEngine.Run> body) {
    FunctionPool pool = gateway.supervisor().pool(t.function());
    Map<Long, ProcStats> before = functionStats(pool);
    ProcStats self0 = ProcStats.self();
    LoadEngine.Run run = body.get();
    ProcStats self1 = ProcStats.self();
    Map<Long, ProcStats> after = functionStats(pool);
    Map<String, Object> m = new LinkedHashMap<>(run.recorder().toJson(run.seconds()));
    m.put("gateway", gatewayJson(self0, self1, run.clientCpuNanos(), run.recorder().responses()));
    m.put("client", Map.of("cpu_ms", run.clientCpuNanos() / 1e6));
    m.put("function_processes", functionJson(before, after, run.recorder().responses()));
    return m;
  }

  // ---- /proc ----------------------------------------------------------------------------------

  private static Map<Long, ProcStats> functionStats(FunctionPool pool) {
    Map<Long, ProcStats> out = new HashMap<>();
    for (InstanceView v : pool.instances()) {
      ProcStats s = ProcStats.of(v.pid());
      if (s != null) {
        out.put(v.pid(), s);
      }
    }
    return out;
  }

  private static Map<String, Object> gatewayJson(
      ProcStats s0, ProcStats s1, long clientCpuNanos, long requests) {
    Map<String, Object> m = new LinkedHashMap<>();
    if (s0 == null || s1 == null) {
      m.put("available", false);
      return m;
    }
    double cpuMs =
        Math.max(0, (s1.cpuTicks() - s0.cpuTicks()) * ProcStats.TICK_MS - clientCpuNanos / 1e6);
    m.put("pid", s1.pid());
    m.put("cpu_ms", cpuMs);
    m.put("cpu_us_per_request", requests > 0 ? cpuMs * 1000 / requests : 0.0);
    m.put("rss_kib", s1.rssKib());
    m.put("peak_rss_kib", s1.peakRssKib());
    return m;
  }

  private static Map<String, Object> functionJson(
      Map<Long, ProcStats> before, Map<Long, ProcStats> after, long requests) {
    Map<String, Object> m = new LinkedHashMap<>();
    long ticks = 0;
    long rss = 0;
    long peak = 0;
    for (Map.Entry<Long, ProcStats> e : after.entrySet()) {
      ProcStats b = before.get(e.getKey());
      ticks += e.getValue().cpuTicks() - (b != null ? b.cpuTicks() : 0);
      rss += e.getValue().rssKib();
      peak += e.getValue().peakRssKib();
    }
    m.put("pids", new ArrayList<Object>(after.keySet()));
    m.put("cpu_ms", ticks * ProcStats.TICK_MS);
    m.put("cpu_us_per_request", requests > 0 ? ticks * ProcStats.TICK_MS * 1000.0 / requests : 0.0);
    m.put("rss_kib", rss);
    m.put("peak_rss_kib", peak);
    return m;
  }

  // ---- description ----------------------------------------------------------------------------

  private static Map<String, Object> environment() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put(
        "date",
        ZonedDateTime.now(java.time.ZoneId.systemDefault())
            .format(DateTimeFormatter.ISO_OFFSET_DATE_TIME));
    m.put("cpus", Runtime.getRuntime().availableProcessors());
    m.put("cpu_model", cpuModel());
    m.put("os", System.getProperty("os.name") + " " + System.getProperty("os.version"));
    m.put(
        "java",
        System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version"));
    m.put("python", PythonVersion.get());
    return m;
  }

  private static String cpuModel() {
    try {
      for (String line : Files.readAllLines(java.nio.file.Path.of("/proc/cpuinfo"))) {
        if (line.startsWith("model name")) {
          return line.substring(line.indexOf(':') + 1).trim();
        }
      }
    } catch (IOException e) {
      return "unknown";
    }
    return "unknown";
  }

  private Map<String, Object> settingsJson() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("manifest", settings.manifest().toAbsolutePath().normalize().toString());
    m.put("cases", new ArrayList<Object>(settings.cases()));
    m.put("runtimes", new ArrayList<Object>(settings.runtimes()));
    m.put("requests", settings.requests());
    m.put("cold_requests", settings.coldRequests());
    m.put("warmup", settings.warmup());
    m.put("concurrency", new ArrayList<Object>(settings.concurrency()));
    m.put("duration_s", settings.duration().toMillis() / 1000.0);
    m.put("rate_rps", settings.rate());
    m.put("rate_connections", settings.rateConnections());
    m.put("payload_bytes", settings.payloadBytes());
    m.put("payload_concurrency", settings.payloadConcurrency());
    List<Object> names = new ArrayList<>();
    settings.targets().forEach(t -> names.add(t.name()));
    m.put("targets", names);
    return m;
  }

  /** The python3 the bench functions run on, for the environment block. */
  private static final class PythonVersion {
    static String get() {
      try {
        Process p = new ProcessBuilder("python3", "--version").redirectErrorStream(true).start();
        String v =
            new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8)
                .trim();
        p.waitFor(5, TimeUnit.SECONDS);
        return v;
      } catch (IOException e) {
        return "unknown";
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return "unknown";
      }
    }
  }

  static Duration parseDuration(String s) {
    String t = s.trim().toLowerCase(java.util.Locale.ROOT);
    try {
      if (t.endsWith("ms")) {
        return Duration.ofMillis(Long.parseLong(t.substring(0, t.length() - 2)));
      }
      if (t.endsWith("s")) {
        return Duration.ofMillis(
            (long) (Double.parseDouble(t.substring(0, t.length() - 1)) * 1000));
      }
      if (t.endsWith("m")) {
        return Duration.ofMillis(
            (long) (Double.parseDouble(t.substring(0, t.length() - 1)) * 60_000));
      }
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          "'" + s + "' is not a duration: write 10s, 500ms or 1m", e);
    }
    throw new IllegalArgumentException("'" + s + "' is not a duration: write 10s, 500ms or 1m");
  }

  static int parseSize(String s) {
    String t = s.trim().toLowerCase(java.util.Locale.ROOT);
    long mult = 1;
    if (t.endsWith("k") || t.endsWith("kb") || t.endsWith("kib")) {
      mult = 1024;
      t = t.replaceAll("[a-z]+$", "");
    } else if (t.endsWith("m") || t.endsWith("mb") || t.endsWith("mib")) {
      mult = 1024 * 1024;
      t = t.replaceAll("[a-z]+$", "");
    } else if (t.endsWith("b")) {
      t = t.substring(0, t.length() - 1);
    }
    try {
      long v = Long.parseLong(t) * mult;
      if (v <= 0 || v > Integer.MAX_VALUE) {
        throw new IllegalArgumentException(
            "payload size '" + s + "' must be between 1 byte and 2 GiB");
      }
      return (int) v;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("'" + s + "' is not a size: write 256k, 1m or 4096", e);
    }
  }
}
