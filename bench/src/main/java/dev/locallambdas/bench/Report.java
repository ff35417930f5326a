package dev.locallambdas.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Writes report.md and the charts from a results document (the same map that becomes results.json,
 * or one read back from it), so a report can be regenerated from any results.json.
 */
final class Report {
  private Report() {}

  static void write(Map<String, Object> doc, Path dir) throws IOException {
    List<String> charts = Charts.write(doc, dir);
    Files.writeString(dir.resolve("report.md"), markdown(doc, charts, ""));
  }

  /** The report; {@code chartPrefix} is prepended to chart file names (for docs/ embedding). */
  @SuppressWarnings("unchecked")
  static String markdown(Map<String, Object> doc, List<String> charts, String chartPrefix) {
    StringBuilder md = new StringBuilder();
    Map<String, Object> env = (Map<String, Object>) doc.get("environment");
    md.append("# local-lambdas benchmark report\n\n");
    md.append("- date: ").append(env.get("date")).append('\n');
    md.append("- CPUs: ")
        .append(env.get("cpus"))
        .append(" (")
        .append(env.get("cpu_model"))
        .append(")\n");
    md.append("- ")
        .append(env.get("os"))
        .append(", ")
        .append(env.get("java"))
        .append(", ")
        .append(env.get("python"))
        .append('\n');
    md.append("- wall time: ").append(num(doc.get("wall_time_s"), 1)).append(" s\n");
    for (Object n : list(doc.get("notes"))) {
      md.append("- note: ").append(n).append('\n');
    }
    md.append('\n');
    List<Object> cases = list(doc.get("cases"));
    if (!cases.isEmpty()) {
      md.append("## The five cases\n\n");
      md.append(
          "Sequential requests on one keep-alive connection (like the seeds' loops). Latency in ms.\n\n");
      md.append(
          "| case | runtime | status | requests | errors | req/s | min | mean | stddev | p10 | p50 | p90 | p99 | p99.9 | max | gateway CPU µs/req | function CPU ms | function RSS MiB |\n");
      md.append(
          "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
      for (Object o : cases) {
        Map<String, Object> c = (Map<String, Object>) o;
        String label = c.get("case") + " " + c.get("name");
        if (!"ok".equals(c.get("status"))) {
          md.append("| ")
              .append(label)
              .append(" | ")
              .append(c.get("runtime"))
              .append(" | ")
              .append(c.get("note"))
              .append(" |||||||||||||||\n");
          continue;
        }
        Map<String, Object> l = map(c.get("latency_ms"));
        Map<String, Object> fn = map(c.get("function_processes"));
        Object rss = fn.containsKey("rss_kib") ? fn.get("rss_kib") : fn.get("peak_rss_kib_mean");
        md.append("| ")
            .append(label)
            .append(" | ")
            .append(c.get("runtime"))
            .append(" | ok | ")
            .append(c.get("requests"))
            .append(" | ")
            .append(c.get("errors"))
            .append(" | ")
            .append(num(c.get("throughput_rps"), 0))
            .append(" | ")
            .append(ms(l.get("min")))
            .append(" | ")
            .append(ms(l.get("mean")))
            .append(" | ")
            .append(ms(l.get("stddev")))
            .append(" | ")
            .append(ms(l.get("p10")))
            .append(" | ")
            .append(ms(l.get("p50")))
            .append(" | ")
            .append(ms(l.get("p90")))
            .append(" | ")
            .append(ms(l.get("p99")))
            .append(" | ")
            .append(ms(l.get("p99_9")))
            .append(" | ")
            .append(ms(l.get("max")))
            .append(" | ")
            .append(num(map(c.get("gateway")).get("cpu_us_per_request"), 0))
            .append(" | ")
            .append(num(fn.get("cpu_ms"), 0))
            .append(" | ")
            .append(rss == null ? "-" : num(((Number) rss).doubleValue() / 1024, 1))
            .append(" |\n");
      }
      md.append(
          "\nFunction RSS: resident memory of the warm instance at the end of the case; for cold"
              + " cases the mean peak (VmHWM) of the fresh processes, read just after their answer.\n\n");
      coldTable(md, cases);
    }
    gatewayStart(md, doc);
    loadTables(md, doc);
    md.append(interpretation(doc));
    if (!charts.isEmpty()) {
      md.append("\n## Charts\n\n");
      for (String c : charts) {
        md.append("![").append(c).append("](").append(chartPrefix).append(c).append(")\n\n");
      }
    }
    return md.toString();
  }

  @SuppressWarnings("unchecked")
  private static void coldTable(StringBuilder md, List<Object> cases) {
    boolean any = false;
    for (Object o : cases) {
      Map<String, Object> c = (Map<String, Object>) o;
      if (!c.containsKey("cold_start")) {
        continue;
      }
      if (!any) {
        md.append("### Cold starts, split (mean ms)\n\n");
        md.append(
            "spawn: from the request reaching the function's pool to the process running (fork,"
                + " exec, transport set-up); ready: the child's own start-up until it signals readiness;"
                + " first response: from ready to the last response byte at the client.\n\n");
        md.append(
            "| case | runtime | mode | total p50 | spawn | ready | first response | function CPU ms/start |\n");
        md.append("|---|---|---|---:|---:|---:|---:|---:|\n");
        any = true;
      }
      Map<String, Object> s = map(c.get("cold_start"));
      md.append("| ")
          .append(c.get("case"))
          .append(' ')
          .append(c.get("name"))
          .append(" | ")
          .append(c.get("runtime"))
          .append(" | ")
          .append(c.getOrDefault("mode", "plain"))
          .append(" | ")
          .append(ms(map(c.get("latency_ms")).get("p50")))
          .append(" | ")
          .append(ms(map(s.get("spawn_ms")).get("mean")))
          .append(" | ")
          .append(ms(map(s.get("ready_ms")).get("mean")))
          .append(" | ")
          .append(ms(map(s.get("first_response_ms")).get("mean")))
          .append(" | ")
          .append(num(map(c.get("function_processes")).get("cpu_ms_per_start"), 0))
          .append(" |\n");
    }
    if (any) {
      md.append('\n');
    }
  }

  private static void gatewayStart(StringBuilder md, Map<String, Object> doc) {
    if (!(doc.get("gateway_start") instanceof Map<?, ?> g)) {
      return;
    }
    Map<String, Object> first = map(g.get("first_answer_ms"));
    md.append("### The gateway's own start\n\n")
        .append("`")
        .append(g.get("command"))
        .append("`, ")
        .append(g.get("runs"))
        .append(" runs: exec to the first answer p50 ")
        .append(ms(first.get("p50")))
        .append(" ms (min ")
        .append(ms(first.get("min")))
        .append(", max ")
        .append(ms(first.get("max")))
        .append("); the JVM's resident memory 2 s after start ")
        .append(num(g.get("rss_idle_mib"), 1))
        .append(" MiB (median).\n\n");
  }

  @SuppressWarnings("unchecked")
  private static void loadTables(StringBuilder md, Map<String, Object> doc) {
    List<Object> load = list(doc.get("load"));
    if (!load.isEmpty()) {
      md.append("## Load, closed loop\n\n");
      md.append(
          "| target | concurrency | requests | errors | req/s | p50 | p90 | p99 | p99.9 | max | gateway CPU µs/req | function CPU µs/req |\n");
      md.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
      for (Object o : load) {
        Map<String, Object> r = (Map<String, Object>) o;
        Map<String, Object> l = map(r.get("latency_ms"));
        row(
            md,
            r.get("target"),
            r.get("concurrency"),
            r.get("requests"),
            r.get("errors"),
            num(r.get("throughput_rps"), 0),
            ms(l.get("p50")),
            ms(l.get("p90")),
            ms(l.get("p99")),
            ms(l.get("p99_9")),
            ms(l.get("max")),
            num(map(r.get("gateway")).get("cpu_us_per_request"), 0),
            num(map(r.get("function_processes")).get("cpu_us_per_request"), 0));
      }
      md.append('\n');
    }
    List<Object> rate = list(doc.get("rate"));
    if (!rate.isEmpty()) {
      md.append("## Load, open loop (coordinated-omission corrected)\n\n");
      md.append(
          "Latency counts from each request's intended send time; the uncorrected p99 (from the"
              + " actual send) is shown for contrast.\n\n");
      md.append(
          "| target | intended req/s | achieved req/s | connections | errors | p50 | p90 | p99 | p99.9 | max | uncorrected p99 |\n");
      md.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
      for (Object o : rate) {
        Map<String, Object> r = (Map<String, Object>) o;
        Map<String, Object> l = map(r.get("latency_ms"));
        row(
            md,
            r.get("target"),
            num(r.get("intended_rate_rps"), 0),
            num(r.get("throughput_rps"), 0),
            r.get("connections"),
            r.get("errors"),
            ms(l.get("p50")),
            ms(l.get("p90")),
            ms(l.get("p99")),
            ms(l.get("p99_9")),
            ms(l.get("max")),
            ms(map(r.get("uncorrected_latency_ms")).get("p99")));
      }
      md.append('\n');
    }
    List<Object> payload = list(doc.get("payload"));
    if (!payload.isEmpty()) {
      md.append("## Large payloads (every response byte verified)\n\n");
      md.append(
          "| target | payload | concurrency | requests | verified ok | error rate | req/s | MiB/s each way | p50 | p90 | p99 | max |\n");
      md.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
      for (Object o : payload) {
        Map<String, Object> r = (Map<String, Object>) o;
        Map<String, Object> l = map(r.get("latency_ms"));
        row(
            md,
            r.get("target"),
            r.get("payload_bytes") + " B",
            r.get("concurrency"),
            r.get("requests"),
            r.get("ok"),
            String.format(
                Locale.ROOT, "%.2f%%", ((Number) r.get("error_rate")).doubleValue() * 100),
            num(r.get("throughput_rps"), 1),
            num(r.get("verified_mib_per_s"), 1),
            ms(l.get("p50")),
            ms(l.get("p90")),
            ms(l.get("p99")),
            ms(l.get("max")));
      }
      md.append('\n');
    }
  }

  /** A few sentences computed from the numbers: ratios between the cases. */
  @SuppressWarnings("unchecked")
  static String interpretation(Map<String, Object> doc) {
    List<String> lines = new ArrayList<>();
    for (String rt : List.of("python", "java")) {
      Map<String, Object> pipe = find(doc, 4, rt);
      Map<String, Object> http = find(doc, 2, rt);
      if (pipe != null && http != null) {
        lines.add(
            String.format(
                Locale.ROOT,
                "Warm, %s: pipe p50 %s ms vs HTTP p50 %s ms (HTTP/pipe = %.2fx).",
                rt,
                ms(p50(pipe)),
                ms(p50(http)),
                p50(http) / p50(pipe)));
      }
      Map<String, Object> pc = find(doc, 5, rt);
      Map<String, Object> hc = find(doc, 3, rt);
      if (pc != null && hc != null) {
        double r = p50(hc) / p50(pc);
        lines.add(
            String.format(
                Locale.ROOT,
                "Cold, %s: pipe p50 %s ms vs HTTP p50 %s ms (HTTP/pipe = %.2fx): %s.",
                rt,
                ms(p50(pc)),
                ms(p50(hc)),
                r,
                r > 1.1
                    ? "the web server's start-up tax"
                    : "no web-server tax visible here; the start-up is dominated by the runtime itself"));
      }
      if (pipe != null && http != null) {
        double pr = ((Number) map(pipe.get("function_processes")).get("rss_kib")).doubleValue();
        double hr = ((Number) map(http.get("function_processes")).get("rss_kib")).doubleValue();
        if (pr > 0 && hr > 0) {
          lines.add(
              String.format(
                  Locale.ROOT,
                  "Memory, %s: the HTTP function holds %.1f MiB resident vs %.1f MiB for the pipe one (%.2fx).",
                  rt,
                  hr / 1024,
                  pr / 1024,
                  hr / pr));
        }
      }
    }
    Map<String, Object> cached = find(doc, 1, "python");
    Map<String, Object> pipePy = find(doc, 4, "python");
    if (cached != null && pipePy != null) {
      lines.add(
          String.format(
              Locale.ROOT,
              "Cached: p50 %s ms, %.2fx faster than a warm Python pipe call.",
              ms(p50(cached)),
              p50(pipePy) / p50(cached)));
    }
    if (lines.isEmpty()) {
      return "";
    }
    StringBuilder sb = new StringBuilder("## Interpretation\n\n");
    lines.forEach(l -> sb.append("- ").append(l).append('\n'));
    sb.append(
        "- Absolute numbers depend on the machine and on what else runs on it; compare ratios"
            + " measured in one run.\n");
    return sb.toString();
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> find(Map<String, Object> doc, int c, String runtime) {
    for (Object o : list(doc.get("cases"))) {
      Map<String, Object> m = (Map<String, Object>) o;
      if (((Number) m.get("case")).intValue() == c
          && runtime.equals(m.get("runtime"))
          && "ok".equals(m.get("status"))) {
        return m;
      }
    }
    return null;
  }

  private static double p50(Map<String, Object> c) {
    return ((Number) map(c.get("latency_ms")).get("p50")).doubleValue();
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> map(Object o) {
    return o instanceof Map<?, ?> ? (Map<String, Object>) o : Map.of();
  }

  @SuppressWarnings("unchecked")
  static List<Object> list(Object o) {
    return o instanceof List<?> ? (List<Object>) o : List.of();
  }

  static String num(Object o, int decimals) {
    if (!(o instanceof Number n)) {
      return "-";
    }
    return String.format(Locale.ROOT, "%." + decimals + "f", n.doubleValue());
  }

  /** Milliseconds with three significant-ish digits. */
  static String ms(Object o) {
    if (!(o instanceof Number n)) {
      return "-";
    }
    double v = n.doubleValue();
    if (v >= 100) {
      return String.format(Locale.ROOT, "%.0f", v);
    }
    if (v >= 10) {
      return String.format(Locale.ROOT, "%.1f", v);
    }
    if (v >= 1) {
      return String.format(Locale.ROOT, "%.2f", v);
    }
    return String.format(Locale.ROOT, "%.3f", v);
  }

  /** One Markdown table row: "| a | b | c |". */
  private static void row(StringBuilder md, Object... cells) {
    md.append("| ");
    for (int i = 0; i < cells.length; i++) {
      if (i > 0) {
        md.append(" | ");
      }
      md.append(cells[i]);
    }
    md.append(" |\n");
  }
}
