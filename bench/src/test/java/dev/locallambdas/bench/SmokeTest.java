package dev.locallambdas.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs every mode of the suite briefly against the bundled benchmark functions and checks the
 * outputs: results.json parses and has the documented fields, report.md and the charts exist. No
 * timing is asserted.
 */
class SmokeTest {
  @TempDir Path out;

  @Test
  @SuppressWarnings("unchecked")
  void runsEveryModeAndWritesDocumentedOutputs() throws Exception {
    Settings s =
        new Settings(
            Path.of(System.getProperty("locallambdas.repo"), "bench", "manifest.xml"),
            out,
            List.of(1, 2, 3, 4, 5),
            List.of("python", "java"),
            5,
            1,
            1,
            List.of(2),
            Duration.ofSeconds(1),
            50,
            2,
            16 * 1024,
            2,
            List.of(Target.PIPE_PYTHON, Target.HTTP_JAVA),
            true);
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    new Suite(s, new PrintStream(err, true, StandardCharsets.UTF_8)).run();

    Map<String, Object> doc =
        (Map<String, Object>) Json.parse(Files.readString(out.resolve("results.json")));
    assertThat(doc)
        .containsKeys(
            "schema_version",
            "environment",
            "settings",
            "cases",
            "load",
            "rate",
            "payload",
            "notes");
    assertThat((Map<String, Object>) doc.get("environment"))
        .containsKeys("date", "cpus", "java", "python");

    List<Object> cases = (List<Object>) doc.get("cases");
    // case 1, cases 2-5 for two runtimes, and case 5's other modes (Python: template, spare; Java:
    // AOT cache)
    assertThat(cases).hasSize(12);
    assertThat(cases)
        .extracting(o -> ((Map<String, Object>) o).get("mode"))
        .containsOnlyOnce("template", "spare", "aot");
    for (Object o : cases) {
      Map<String, Object> c = (Map<String, Object>) o;
      assertThat(c).containsKeys("case", "name", "runtime", "transport", "function", "status");
      if (!"ok".equals(c.get("status"))) {
        assertThat(c.get("case")).isEqualTo(1L); // only the cache may be missing from a build
        assertThat((String) c.get("note")).contains("cache not available");
        continue;
      }
      assertThat(c)
          .containsKeys(
              "requests",
              "ok",
              "errors",
              "status_counts",
              "throughput_rps",
              "response_bytes",
              "latency_ms",
              "distribution",
              "gateway",
              "client",
              "function_processes");
      assertThat((Map<String, Object>) c.get("latency_ms"))
          .containsKeys(
              "min", "mean", "stddev", "p10", "p25", "p50", "p75", "p90", "p95", "p99", "p99_9",
              "max");
      assertThat(c.get("errors")).isEqualTo(0L);
      assertThat((Map<String, Object>) c.get("status_counts")).containsKey("200");
      assertThat((Map<String, Object>) c.get("gateway"))
          .containsKeys("cpu_ms", "cpu_us_per_request", "rss_kib");
      if (c.get("name").toString().contains("cold")) {
        Map<String, Object> split = (Map<String, Object>) c.get("cold_start");
        assertThat(split).containsKeys("spawn_ms", "ready_ms", "first_response_ms");
        if (!"spare".equals(c.get("mode"))) { // a spare's process starts before its request
          assertThat((Map<String, Object>) split.get("ready_ms")).containsKeys("mean", "p50");
        }
        if ("template".equals(c.get("mode"))) {
          assertThat(c).containsKey("forked_starts");
        }
      } else {
        assertThat((Map<String, Object>) c.get("function_processes"))
            .containsKeys("pids", "cpu_ms", "rss_kib");
      }
    }

    List<Object> load = (List<Object>) doc.get("load");
    assertThat(load).hasSize(2);
    for (Object o : load) {
      assertThat((Map<String, Object>) o)
          .containsKeys("target", "concurrency", "throughput_rps", "latency_ms");
    }
    List<Object> rate = (List<Object>) doc.get("rate");
    assertThat(rate).hasSize(2);
    assertThat((Map<String, Object>) rate.get(0))
        .containsKeys("intended_rate_rps", "latency_ms", "uncorrected_latency_ms");
    List<Object> payload = (List<Object>) doc.get("payload");
    // Payload mode runs the chosen targets, a pipe target with its frames twin (ADR 0011).
    assertThat(payload).hasSize(3);
    for (Object o : payload) {
      Map<String, Object> p = (Map<String, Object>) o;
      assertThat(p)
          .containsKeys("payload_bytes", "error_rate", "verified_mib_per_s", "body_mismatches");
      assertThat(p.get("body_mismatches")).isEqualTo(0L);
      assertThat(p.get("errors")).isEqualTo(0L);
    }

    assertThat(out.resolve("report.md")).exists();
    assertThat(Files.readString(out.resolve("report.md")))
        .contains("## The five cases", "## Load, closed loop");
    for (String chart :
        List.of(
            "latency-cases",
            "cold-start-breakdown",
            "throughput-by-concurrency",
            "payload-throughput")) {
      assertThat(out.resolve(chart + ".png")).isNotEmptyFile();
      assertThat(out.resolve(chart + ".svg")).isNotEmptyFile();
    }
    assertThat(err.toString(StandardCharsets.UTF_8)).contains("100%");
  }
}
