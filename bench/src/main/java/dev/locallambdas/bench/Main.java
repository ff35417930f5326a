package dev.locallambdas.bench;

import dev.locallambdas.manifest.FunctionSpec;
import dev.locallambdas.manifest.Protocol;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.HdrHistogram.Histogram;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code ./local-lambdas bench}: the benchmark suite (docs/benchmarks.md). */
@Command(
    name = "bench",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    subcommands = {
      Main.Startup.class,
      Main.DirectPipe.class,
      Main.Url.class,
      Main.ReportCommand.class
    },
    description = {
      "Runs the benchmark suite against a gateway started in this process with the bundled",
      "benchmark functions, and writes results.json, report.md and charts to --out.",
      "",
      "With no mode option it runs the five cases (1 cached, 2 HTTP warm, 3 HTTP cold, 4 pipe",
      "warm, 5 pipe cold), for Python and Java functions. --concurrency/--duration add a",
      "closed-loop load run, --rate an open-loop run (coordinated-omission corrected),",
      "--payload a large-payload run that verifies every byte. --suite runs all of them with",
      "the defaults docs/benchmarks.md uses."
    })
final class Main implements Callable<Integer> {
  @Option(
      names = "--cases",
      split = ",",
      paramLabel = "N",
      description = "Cases to run, e.g. 1,2,3,4,5.")
  List<Integer> cases;

  @Option(
      names = "--requests",
      paramLabel = "N",
      description = "Measured requests per warm case (default ${DEFAULT-VALUE}).")
  int requests = 1000;

  @Option(
      names = "--cold-requests",
      paramLabel = "N",
      description =
          "Measured requests per cold case, each a fresh process (default ${DEFAULT-VALUE}).")
  int coldRequests = 20;

  @Option(
      names = "--warmup",
      paramLabel = "N",
      description =
          "Warm-up requests before each measurement (default ${DEFAULT-VALUE}; cold cases use at most 2).")
  int warmup = 200;

  @Option(
      names = "--runtimes",
      split = ",",
      paramLabel = "R",
      description = "python, java or both (default).")
  List<String> runtimes = List.of("python", "java");

  @Option(
      names = "--concurrency",
      split = ",",
      paramLabel = "C",
      description = "Closed-loop load with C connections (a list: 1,16,64).")
  List<Integer> concurrency;

  @Option(
      names = "--duration",
      paramLabel = "D",
      description = "Length of each load, rate or payload run (default ${DEFAULT-VALUE}).")
  String duration = "10s";

  @Option(
      names = "--rate",
      paramLabel = "R",
      description = "Open-loop load at R requests per second.")
  double rate;

  @Option(
      names = "--connections",
      paramLabel = "N",
      description = "Connections for --rate (default ${DEFAULT-VALUE}).")
  int connections = 16;

  @Option(
      names = "--payload",
      paramLabel = "SIZE",
      description =
          "Large-payload mode: POST and echo bodies of SIZE (256k, 1m) at --concurrency (default 50).")
  String payload;

  @Option(
      names = "--targets",
      split = ",",
      paramLabel = "T",
      description =
          "Load, rate and payload targets: cached, pipe-python, pipe-java, http-python, http-java"
              + " (default all); in payload mode a pipe target brings its frames twin.")
  List<String> targets;

  @Option(
      names = "--suite",
      description = "Everything: the five cases, load at 1,8,64, rate 1000/s, payload 256k at 50.")
  boolean suite;

  @Option(
      names = "--out",
      paramLabel = "DIR",
      description = "Where results go (default bench-results/<timestamp>).")
  Path out;

  @Option(
      names = "--manifest",
      paramLabel = "FILE",
      description = "Benchmark manifest (default bench/manifest.xml).")
  Path manifest;

  @Option(names = "--no-progress", description = "No progress bar.")
  boolean noProgress;

  @Option(names = "--verbose", description = "Show the gateway's log.")
  boolean verbose;

  public static void main(String[] args) {
    System.setProperty("java.awt.headless", "true");
    System.exit(new CommandLine(new Main()).execute(args));
  }

  /** The benchmark manifest beside this module: $LOCAL_LAMBDAS_HOME/bench/manifest.xml. */
  static Path defaultManifest() {
    String home = System.getenv("LOCAL_LAMBDAS_HOME");
    if (home == null) {
      home = System.getProperty("locallambdas.repo", ".");
    }
    return Path.of(home, "bench", "manifest.xml");
  }

  private static final Logger GATEWAY_LOG = Logger.getLogger("dev.locallambdas");

  @Override
  public Integer call() throws Exception {
    GATEWAY_LOG.setLevel(verbose ? Level.INFO : Level.WARNING);
    Settings s = settings();
    Map<String, Object> doc = new Suite(s, System.err).run();
    System.out.println("results: " + s.out().resolve("results.json"));
    System.out.println("report:  " + s.out().resolve("report.md"));
    for (Object n : Report.list(doc.get("notes"))) {
      System.out.println("note: " + n);
    }
    return 0;
  }

  Settings settings() {
    List<Integer> caseList = cases;
    List<Integer> conc = concurrency != null ? concurrency : List.of();
    double r = rate;
    int payloadBytes = payload != null ? Suite.parseSize(payload) : 0;
    int payloadConcurrency =
        concurrency != null && concurrency.size() == 1 ? concurrency.get(0) : 50;
    if (suite) {
      caseList = caseList != null ? caseList : List.of(1, 2, 3, 4, 5);
      conc = concurrency != null ? conc : List.of(1, 8, 64);
      r = rate > 0 ? rate : 1000;
      payloadBytes = payloadBytes > 0 ? payloadBytes : 256 * 1024;
      payloadConcurrency = 50;
    } else if (caseList == null) {
      boolean otherMode = concurrency != null || rate > 0 || payload != null;
      caseList = otherMode ? List.of() : List.of(1, 2, 3, 4, 5);
    }
    if (payload != null && !suite && concurrency != null && rate <= 0 && concurrency.size() == 1) {
      conc =
          List.of(); // --payload 256k --concurrency 50: the concurrency belongs to the payload run
    }
    List<Target> ts = new ArrayList<>();
    if (targets == null) {
      ts.add(Target.CACHED);
      for (Target t : Target.WARM) {
        if (runtimes.contains(t.runtime())) {
          ts.add(t);
        }
      }
    } else {
      targets.forEach(n -> ts.add(Target.named(n)));
    }
    Path outDir =
        out != null
            ? out
            : Path.of(
                "bench-results",
                java.time.LocalDateTime.now(java.time.ZoneId.systemDefault())
                    .format(java.time.format.DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
    return new Settings(
        manifest != null ? manifest : defaultManifest(),
        outDir,
        caseList,
        runtimes,
        requests,
        coldRequests,
        warmup,
        conc,
        Suite.parseDuration(duration),
        r,
        connections,
        payloadBytes,
        payloadConcurrency,
        ts,
        !noProgress);
  }

  // ---- subcommands ----------------------------------------------------------------------------

  @Command(
      name = "startup",
      mixinStandardHelpOptions = true,
      description = {
        "Times each benchmark function's own start-to-ready with no gateway (spawn until HELLO for",
        "pipe functions, until the port accepts for HTTP ones) and /bin/true's spawn-to-exit. With",
        "--results, compares them with the cold cases of that run and prints the ratios."
      })
  static final class Startup implements Callable<Integer> {
    @Option(names = "--runs", description = "Starts per function (default ${DEFAULT-VALUE}).")
    int runs = 10;

    @Option(
        names = "--results",
        paramLabel = "FILE",
        description = "results.json of a run with cases 3 and 5.")
    Path results;

    @Option(names = "--manifest", paramLabel = "FILE")
    Path manifest;

    @Override
    public Integer call() throws Exception {
      BenchManifest bm = BenchManifest.load(manifest != null ? manifest : defaultManifest());
      Map<String, Object> doc =
          results != null ? Report.map(Json.parse(Files.readString(results))) : Map.of();
      Histogram t = new Histogram(3);
      for (int i = 0; i < runs; i++) {
        t.recordValue(ChildProbe.spawnToExit("/bin/true"));
      }
      System.out.printf(
          Locale.ROOT,
          "%-14s %12s %12s %14s %12s %12s%n",
          "program",
          "own p50 ms",
          "own mean ms",
          "gateway cold",
          "overhead ms",
          "ratio");
      System.out.printf(
          Locale.ROOT,
          "%-14s %12.2f %12.2f%n",
          "/bin/true",
          t.getValueAtPercentile(50) / 1e6,
          t.getMean() / 1e6);
      for (String id : List.of("pipe-python", "pipe-java", "http-python", "http-java")) {
        FunctionSpec spec = bm.manifest().function(id);
        Histogram h = new Histogram(3);
        for (int i = 0; i < runs; i++) {
          try (ChildProbe p = new ChildProbe(spec)) {
            h.recordValue(p.start());
          }
        }
        double own = h.getValueAtPercentile(50) / 1e6;
        String runtime = id.substring(id.indexOf('-') + 1);
        Map<String, Object> cold =
            Report.find(doc, spec.protocol() == Protocol.PIPE ? 5 : 3, runtime);
        if (cold != null) {
          double total = ((Number) Report.map(cold.get("latency_ms")).get("p50")).doubleValue();
          System.out.printf(
              Locale.ROOT,
              "%-14s %12.2f %12.2f %14.2f %12.2f %11.2fx%n",
              id,
              own,
              h.getMean() / 1e6,
              total,
              total - own,
              total / own);
        } else {
          System.out.printf(Locale.ROOT, "%-14s %12.2f %12.2f%n", id, own, h.getMean() / 1e6);
        }
      }
      System.out.println(
          "gateway cold = p50 of a cold request through the gateway (spawn, start-up, the request itself);"
              + " overhead = gateway cold - own start-to-ready p50; ratio = gateway cold / own.");
      return 0;
    }
  }

  @Command(
      name = "direct-pipe",
      mixinStandardHelpOptions = true,
      description = {
        "Plays the gateway's part of the pipe protocol with one benchmark function and times",
        "sequential GETs straight over its socket: the physical floor of a warm pipe call."
      })
  static final class DirectPipe implements Callable<Integer> {
    @Option(
        names = "--function",
        description = "pipe-python or pipe-java (default ${DEFAULT-VALUE}).")
    String function = "pipe-java";

    @Option(names = "--requests", description = "Measured requests (default ${DEFAULT-VALUE}).")
    int requests = 20000;

    @Option(names = "--warmup", description = "Warm-up requests (default ${DEFAULT-VALUE}).")
    int warmup = 5000;

    @Option(names = "--manifest", paramLabel = "FILE")
    Path manifest;

    @Override
    public Integer call() throws Exception {
      BenchManifest bm = BenchManifest.load(manifest != null ? manifest : defaultManifest());
      FunctionSpec spec = bm.manifest().function(function);
      if (spec == null || spec.protocol() != Protocol.PIPE) {
        throw new CommandLine.ParameterException(
            new CommandLine(this),
            "--function must name a pipe function: pipe-python or pipe-java");
      }
      Histogram h = new Histogram(3);
      String target = "/" + function + "/hello";
      try (ChildProbe p = new ChildProbe(spec)) {
        p.start();
        for (int i = 0; i < warmup; i++) {
          p.get(target);
        }
        long start = System.nanoTime();
        for (int i = 0; i < requests; i++) {
          long t0 = System.nanoTime();
          p.get(target);
          h.recordValue(System.nanoTime() - t0);
        }
        double secs = (System.nanoTime() - start) / 1e9;
        System.out.printf(
            Locale.ROOT,
            "direct-pipe function=%s requests=%d rps=%.0f p50_ms=%.4f p90_ms=%.4f p99_ms=%.4f mean_ms=%.4f%n",
            function,
            requests,
            requests / secs,
            h.getValueAtPercentile(50) / 1e6,
            h.getValueAtPercentile(90) / 1e6,
            h.getValueAtPercentile(99) / 1e6,
            h.getMean() / 1e6);
      }
      return 0;
    }
  }

  @Command(
      name = "url",
      mixinStandardHelpOptions = true,
      description = {
        "Closed-loop load with this suite's HTTP client against any URL (no gateway started):",
        "compare it with wrk on the same server to see that the client is not the limit."
      })
  static final class Url implements Callable<Integer> {
    @Parameters(index = "0", description = "http://host:port/path")
    URI url;

    @Option(names = "--concurrency", description = "Connections (default ${DEFAULT-VALUE}).")
    int concurrency = 64;

    @Option(names = "--duration", description = "Length (default ${DEFAULT-VALUE}).")
    String duration = "10s";

    // Progress only paints on System.err; closing it stops the painter, never the stream.
    @SuppressWarnings("ClosingStandardOutputStreams")
    @Override
    public Integer call() {
      InetSocketAddress a =
          new InetSocketAddress(url.getHost(), url.getPort() < 0 ? 80 : url.getPort());
      Duration d = Suite.parseDuration(duration);
      String path = url.getRawPath() == null || url.getRawPath().isEmpty() ? "/" : url.getRawPath();
      try (Progress p = new Progress(System.err, false, 1)) {
        LoadEngine e = new LoadEngine(a, p);
        e.closed(LoadEngine.Request.get(path), Math.min(concurrency, 4), Duration.ofSeconds(1));
        LoadEngine.Run run = e.closed(LoadEngine.Request.get(path), concurrency, d);
        Histogram h = run.recorder().latency;
        System.out.printf(
            Locale.ROOT,
            "url=%s concurrency=%d requests=%d errors=%d rps=%.0f p50_ms=%.4f p99_ms=%.4f client_cpu_ms=%.0f%n",
            url,
            concurrency,
            run.recorder().responses(),
            run.recorder().errors,
            run.recorder().responses() / run.seconds(),
            h.getValueAtPercentile(50) / 1e6,
            h.getValueAtPercentile(99) / 1e6,
            run.clientCpuNanos() / 1e6);
      }
      return 0;
    }
  }

  @Command(
      name = "report",
      mixinStandardHelpOptions = true,
      description = "Rewrites report.md and the charts from a results.json.")
  static final class ReportCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "RESULTS_JSON")
    Path results;

    @Option(
        names = "--out",
        paramLabel = "DIR",
        description = "Where to write (default: beside the results).")
    Path out;

    @Option(
        names = "--chart-prefix",
        description = "Prefix for chart links in the markdown (default none).")
    String chartPrefix = "";

    @Override
    public Integer call() throws Exception {
      Map<String, Object> doc =
          new LinkedHashMap<>(Report.map(Json.parse(Files.readString(results))));
      Path dir = out != null ? out : results.toAbsolutePath().getParent();
      Files.createDirectories(dir);
      List<String> charts = Charts.write(doc, dir);
      Files.writeString(dir.resolve("report.md"), Report.markdown(doc, charts, chartPrefix));
      System.out.println("report: " + dir.resolve("report.md"));
      return 0;
    }
  }
}
