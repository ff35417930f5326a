package dev.locallambdas.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.locallambdas.function.InstanceState;
import dev.locallambdas.function.InstanceView;
import dev.locallambdas.server.Gateway;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Metrics and the admin API against a real gateway and real children: what a scrape shows after
 * requests, cold starts, crashes and refusals; the text and OpenMetrics formats; restart without
 * downtime, drain and start, per-URL purge; the loopback, method and origin rules.
 */
@ExtendWith(NoLeaks.class)
class ObservabilityTest {
  private final HttpClient client =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  private Gateway gateway;
  private String base;

  private void start(Map<String, String> env, dev.locallambdas.manifest.FunctionSpec... functions)
      throws IOException {
    gateway =
        Gateway.builder(TestManifests.manifest(functions))
            .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
            .environment(env)
            .start();
    base = "http://127.0.0.1:" + gateway.address().getPort();
  }

  @AfterEach
  void stop() {
    if (gateway != null) {
      gateway.close();
    }
  }

  private HttpResponse<String> send(String method, String path, String... headers)
      throws IOException, InterruptedException {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(base + path))
            .timeout(Duration.ofSeconds(30))
            .method(method, HttpRequest.BodyPublishers.noBody());
    for (int i = 0; i < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private String scrape() throws Exception {
    HttpResponse<String> r = send("GET", "/.local-lambdas/metrics");
    assertThat(r.statusCode()).isEqualTo(200);
    return r.body();
  }

  /**
   * The value of the sample {@code name} whose labels include every {@code label="value"} given.
   */
  private static double sample(String text, String name, String... labels) {
    Pattern line =
        Pattern.compile("^" + Pattern.quote(name) + "\\{([^}]*)\\} (\\S+)$", Pattern.MULTILINE);
    Matcher m = line.matcher(text);
    while (m.find()) {
      boolean all = true;
      for (int i = 0; i < labels.length; i += 2) {
        all &= m.group(1).contains(labels[i] + "=\"" + labels[i + 1] + "\"");
      }
      if (all) {
        return Double.parseDouble(m.group(2));
      }
    }
    return Double.NaN;
  }

  @Test
  void aScrapeShowsRequestsLatencyColdStartsAndInstances() throws Exception {
    start(Map.of(), TestManifests.cue("cue").build());
    assertThat(send("GET", "/cue/hello").statusCode()).isEqualTo(200);
    assertThat(send("POST", "/cue/hello").statusCode()).isEqualTo(200);
    assertThat(send("GET", "/cue/hello").statusCode()).isEqualTo(200);

    HttpResponse<String> r = send("GET", "/.local-lambdas/metrics");
    assertThat(r.headers().firstValue("content-type").orElse(""))
        .startsWith("text/plain; version=0.0.4");
    String text = r.body();
    assertThat(
            sample(
                text,
                "local_lambdas_requests_total",
                "function",
                "cue",
                "method",
                "GET",
                "status",
                "2xx"))
        .isEqualTo(2);
    assertThat(
            sample(
                text,
                "local_lambdas_requests_total",
                "function",
                "cue",
                "method",
                "POST",
                "status",
                "2xx"))
        .isEqualTo(1);
    assertThat(sample(text, "local_lambdas_request_duration_seconds_count", "function", "cue"))
        .isEqualTo(3);
    assertThat(
            sample(
                text,
                "local_lambdas_request_duration_seconds_bucket",
                "function",
                "cue",
                "le",
                "+Inf"))
        .isEqualTo(3);
    assertThat(sample(text, "local_lambdas_queue_wait_seconds_count", "function", "cue"))
        .isEqualTo(3);
    assertThat(sample(text, "local_lambdas_cold_starts_total", "function", "cue")).isEqualTo(1);
    assertThat(sample(text, "local_lambdas_cold_start_spawn_seconds_count", "function", "cue"))
        .isEqualTo(1);
    assertThat(sample(text, "local_lambdas_cold_start_ready_seconds_count", "function", "cue"))
        .isEqualTo(1);
    assertThat(
            sample(
                text, "local_lambdas_cold_start_first_response_seconds_count", "function", "cue"))
        .isEqualTo(1);
    assertThat(sample(text, "local_lambdas_instances", "function", "cue", "state", "ready"))
        .isEqualTo(1);
    assertThat(sample(text, "local_lambdas_queue_length", "function", "cue")).isEqualTo(0);
    assertThat(text).contains("local_lambdas_open_connections ").contains("jvm_memory_used_bytes{");
    assertThat(text).contains("# HELP local_lambdas_requests_total ");
  }

  @Test
  void openMetricsOnNegotiation() throws Exception {
    start(Map.of(), TestManifests.cue("cue").build());
    HttpResponse<String> r =
        send(
            "GET",
            "/.local-lambdas/metrics",
            "Accept",
            "application/openmetrics-text; version=1.0.0");
    assertThat(r.headers().firstValue("content-type").orElse(""))
        .startsWith("application/openmetrics-text");
    assertThat(r.body()).endsWith("# EOF\n");
  }

  @Test
  void crashesTimeoutsAndRefusalsAreCountedByCause() throws Exception {
    start(Map.of(), TestManifests.cue("cue").requestTimeout(Duration.ofMillis(500)).build());
    assertThat(send("GET", "/cue/crash").statusCode()).isEqualTo(502);
    assertThat(send("GET", "/cue/hang").statusCode()).isEqualTo(504);
    assertThat(send("GET", "/nowhere").statusCode()).isEqualTo(404);
    await()
        .atMost(Duration.ofSeconds(10))
        .until(
            () -> {
              String text = scrape();
              return sample(
                          text,
                          "local_lambdas_instance_stops_total",
                          "function",
                          "cue",
                          "cause",
                          "crash")
                      == 1
                  && sample(
                          text,
                          "local_lambdas_instance_stops_total",
                          "function",
                          "cue",
                          "cause",
                          "timeout")
                      == 1;
            });
    String text = scrape();
    assertThat(sample(text, "local_lambdas_timeouts_total", "function", "cue", "kind", "request"))
        .isEqualTo(1);
    assertThat(sample(text, "local_lambdas_requests_total", "function", "cue", "status", "5xx"))
        .isEqualTo(2);
    assertThat(
            sample(
                text, "local_lambdas_rejected_requests_total", "code", "404", "reason", "no-route"))
        .isEqualTo(1);
  }

  @Test
  void restartReplacesInstancesWithoutFailingARequest() throws Exception {
    start(Map.of(), TestManifests.cue("cue").minInstances(1).build());
    await().atMost(Duration.ofSeconds(10)).until(() -> readyPids().size() == 1);
    long old = readyPids().getFirst();
    HttpResponse<String> r = send("POST", "/.local-lambdas/functions/cue/restart");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).contains("\"restarting\":\"cue\"").contains("\"instances\":1");
    // Requests all along are served: the old instance until the new one is ready.
    await()
        .atMost(Duration.ofSeconds(10))
        .until(
            () -> {
              assertThat(send("GET", "/cue/hello").statusCode()).isEqualTo(200);
              List<Long> pids = readyPids();
              return pids.size() == 1 && pids.getFirst() != old;
            });
    await()
        .atMost(Duration.ofSeconds(10))
        .until(
            () ->
                send("GET", "/.local-lambdas/functions/cue")
                    .body()
                    .contains("stopped through the admin API"));
  }

  private List<Long> readyPids() {
    return gateway.supervisor().pool("cue").instances().stream()
        .filter(v -> v.state() == InstanceState.READY)
        .map(InstanceView::pid)
        .toList();
  }

  @Test
  void drainRefusesRequestsUntilStart() throws Exception {
    start(Map.of(), TestManifests.cue("cue").build());
    assertThat(send("GET", "/cue/hello").statusCode()).isEqualTo(200);
    assertThat(send("POST", "/.local-lambdas/functions/cue/drain").statusCode()).isEqualTo(200);
    HttpResponse<String> refused = send("GET", "/cue/hello");
    assertThat(refused.statusCode()).isEqualTo(503);
    assertThat(refused.body()).contains("drained").contains("/start");
    assertThat(send("POST", "/.local-lambdas/functions/cue/start").statusCode()).isEqualTo(200);
    assertThat(send("GET", "/cue/hello").statusCode()).isEqualTo(200);
  }

  @Test
  void theAdminApiDescribesTheGatewayAndOneFunction() throws Exception {
    start(Map.of(), TestManifests.cue("cue").build());
    send("GET", "/cue/hello", "X-Request-Id", "trace-me-1");
    HttpResponse<String> one = send("GET", "/.local-lambdas/functions/cue");
    assertThat(one.statusCode()).isEqualTo(200);
    assertThat(one.body())
        .contains("\"id\":\"cue\"")
        .contains("\"settings\":{")
        .contains("\"recentRequests\":[{\"id\":\"trace-me-1\"")
        .contains("\"coldStarts\":{\"count\":1");
    HttpResponse<String> info = send("GET", "/.local-lambdas/gateway");
    assertThat(info.body())
        .contains("\"version\":\"" + Gateway.VERSION + "\"")
        .contains("\"uptimeSeconds\":");
    HttpResponse<String> page = send("GET", "/.local-lambdas/");
    assertThat(page.headers().firstValue("content-type").orElse("")).startsWith("text/html");
    assertThat(page.body()).contains("/.local-lambdas/dashboard.js");
    assertThat(send("GET", "/.local-lambdas/functions/nope").statusCode()).isEqualTo(404);
  }

  @Test
  void stateChangesNeedPostAndNoForeignOrigin() throws Exception {
    start(Map.of(), TestManifests.cue("cue").build());
    HttpResponse<String> viaGet = send("GET", "/.local-lambdas/functions/cue/restart");
    assertThat(viaGet.statusCode()).isEqualTo(405);
    assertThat(viaGet.headers().firstValue("allow")).contains("POST");
    assertThat(send("POST", "/.local-lambdas/metrics").headers().firstValue("allow"))
        .contains("GET, HEAD");
    HttpResponse<String> foreign =
        send("POST", "/.local-lambdas/functions/cue/stop", "Origin", "http://evil.example");
    assertThat(foreign.statusCode()).isEqualTo(403);
    HttpResponse<String> crossSite =
        send("POST", "/.local-lambdas/functions/cue/stop", "Sec-Fetch-Site", "cross-site");
    assertThat(crossSite.statusCode()).isEqualTo(403);
    HttpResponse<String> sameOrigin =
        send("POST", "/.local-lambdas/functions/cue/stop", "Origin", base);
    assertThat(sameOrigin.statusCode()).isEqualTo(200);
  }

  @Test
  void purgeDropsOneUrl() throws Exception {
    start(Map.of("ENABLE_CACHE", "true"), TestManifests.cue("cue").build());
    send("GET", "/cue/a");
    send("GET", "/cue/b");
    assertThat(send("GET", "/cue/a").headers().firstValue("x-cache")).contains("HIT");
    HttpResponse<String> purge =
        send("DELETE", "/.local-lambdas/cache?function=cue&url=%2Fcue%2Fa");
    assertThat(purge.statusCode()).isEqualTo(200);
    assertThat(send("GET", "/cue/a").headers().firstValue("x-cache")).contains("MISS");
    assertThat(send("GET", "/cue/b").headers().firstValue("x-cache")).contains("HIT");
    String text = scrape();
    assertThat(sample(text, "local_lambdas_cache_hits_total", "function", "cue")).isEqualTo(2);
  }
}
