package dev.locallambdas.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import dev.locallambdas.function.StopCause;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The instruments without a gateway: what recording produces in a scrape and in the views. */
class GatewayMetricsTest {
  private final GatewayMetrics metrics = new GatewayMetrics();
  private final FunctionMetrics fn = metrics.function("fn");

  record Done(String requestId, String method, int status, long durationNanos)
      implements CompletedRequest {
    @Override
    public String path() {
      return "/fn/x";
    }

    @Override
    public String instance() {
      return "fn#1";
    }

    @Override
    public long endNanos() {
      return 0;
    }

    @Override
    public long bytesIn() {
      return 10;
    }

    @Override
    public long bytesOut() {
      return 100;
    }
  }

  private String scrape(String accept) {
    return new String(metrics.scrape(accept).body(), StandardCharsets.UTF_8);
  }

  @Test
  void requestsAreCountedByMethodAndStatusClassWithTheirDuration() {
    fn.completed(new Done("a", "GET", 200, 300_000));
    fn.completed(new Done("b", "GET", 204, 2_000_000));
    fn.completed(new Done("c", "PROPFIND", 503, 50_000));
    fn.completed(new Done("d", "POST", 0, 50_000));

    String text = scrape(null);
    assertThat(text)
        .contains("local_lambdas_requests_total{function=\"fn\",method=\"GET\",status=\"2xx\"} 2")
        .contains(
            "local_lambdas_requests_total{function=\"fn\",method=\"PROPFIND\",status=\"5xx\"} 1")
        .contains("local_lambdas_requests_total{function=\"fn\",method=\"POST\",status=\"none\"} 1")
        .contains("local_lambdas_request_duration_seconds_bucket{function=\"fn\",le=\"0.001\"} 3")
        .contains("local_lambdas_request_duration_seconds_count{function=\"fn\"} 4")
        .contains("local_lambdas_request_body_bytes_total{function=\"fn\"} 40")
        .contains("local_lambdas_response_body_bytes_total{function=\"fn\"} 400");

    FunctionMetrics.Numbers n = fn.numbers();
    assertThat(n.requestsByStatusClass()).containsExactly(1, 0, 2, 0, 0, 1);
    assertThat(n.latencyCumulative()).endsWith(4);
    assertThat(n.latencyBounds()[2]).isEqualTo(0.0005);
  }

  @Test
  void theRecentRequestsAreTheLast32NewestFirst() {
    for (int i = 0; i < 40; i++) {
      fn.completed(new Done("r" + i, "GET", 200, 1));
    }
    List<CompletedRequest> recent = fn.recentRequests();
    assertThat(recent).hasSize(32);
    assertThat(recent.getFirst().requestId()).isEqualTo("r39");
    assertThat(recent.getLast().requestId()).isEqualTo("r8");
  }

  @Test
  void lifecycleEventsAreCountedAndKeptForTheDashboard() {
    fn.started("fn#1", 42, 2_000_000, 40_000_000);
    fn.firstResponse(500_000);
    fn.stopped("fn#1", StopCause.CRASH, "exited with status 3", List.of("stderr: boom"));
    fn.startFailed("fn#2", "startup timeout", true);
    fn.queueTimedOut();

    String text = scrape(null);
    assertThat(text)
        .contains("local_lambdas_cold_starts_total{function=\"fn\"} 1")
        .contains("local_lambdas_cold_start_spawn_seconds_count{function=\"fn\"} 1")
        .contains("local_lambdas_cold_start_first_response_seconds_count{function=\"fn\"} 1")
        .contains("local_lambdas_instance_stops_total{cause=\"crash\",function=\"fn\"} 1")
        .contains("local_lambdas_timeouts_total{function=\"fn\",kind=\"startup\"} 1")
        .contains("local_lambdas_timeouts_total{function=\"fn\",kind=\"queue\"} 1")
        .contains("local_lambdas_start_failures_total{function=\"fn\"} 1");
    assertThat(fn.lastColdStart().firstResponse()).isEqualTo(500_000);
    assertThat(fn.events())
        .extracting(FunctionMetrics.Event::what)
        .anySatisfy(w -> assertThat(w).startsWith("crashed (exited with status 3)"));
    assertThat(fn.events().get(1).lines()).containsExactly("stderr: boom");
  }

  @Test
  void openMetricsIsRenderedWhenAskedFor() {
    metrics.rejected(431, "bad-request");
    GatewayMetrics.Scrape om = metrics.scrape("application/openmetrics-text; version=1.0.0");
    assertThat(om.contentType()).startsWith("application/openmetrics-text");
    String text = new String(om.body(), StandardCharsets.UTF_8);
    assertThat(text)
        .endsWith("# EOF\n")
        .contains("local_lambdas_rejected_requests_total{code=\"431\",reason=\"bad-request\"} 1");
    assertThat(metrics.scrape("text/plain").contentType()).startsWith("text/plain; version=0.0.4");
  }
}
