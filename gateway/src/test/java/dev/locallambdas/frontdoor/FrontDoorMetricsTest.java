package dev.locallambdas.frontdoor;

import static org.assertj.core.api.Assertions.assertThat;

import dev.locallambdas.clock.ManualClock;
import dev.locallambdas.frontdoor.ScriptedEndpoint.ScriptedCall;
import dev.locallambdas.function.FunctionPool;
import dev.locallambdas.function.TestPools;
import dev.locallambdas.manifest.FunctionSpec;
import dev.locallambdas.metrics.GatewayMetrics;
import dev.locallambdas.routing.RouteTable;
import dev.locallambdas.transport.Outcome;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * What the front door records, on an EmbeddedChannel with a real pool and scripted calls: each
 * finished request with its status, duration, bytes and queue wait; its id in the recent requests;
 * refusals by code and reason; timeouts; open connections.
 */
class FrontDoorMetricsTest {
  private final ManualClock clock = new ManualClock();
  private final ScriptedEndpoint endpoint = new ScriptedEndpoint();
  private final TestPools.Stops stops = new TestPools.Stops();
  private final GatewayMetrics metrics = new GatewayMetrics();
  private EmbeddedChannel channel;

  @AfterEach
  void close() {
    if (channel != null) {
      channel.finishAndReleaseAll();
    }
  }

  private void start() {
    FunctionSpec spec =
        FunctionSpec.builder("fn")
            .executable("child")
            .route("/fn/*")
            .maxInstances(1)
            .concurrency(1)
            .requestTimeout(Duration.ofSeconds(30))
            .build();
    FunctionPool pool = TestPools.instant(spec, () -> endpoint, clock, clock, stops);
    RouteTable<FunctionPool> routes = RouteTable.<FunctionPool>builder().add("/fn/*", pool).build();
    channel = new EmbeddedChannel();
    channel.freezeTime();
    FrontDoor.configure(
        channel.pipeline(),
        () -> routes,
        null,
        null,
        Duration.ofSeconds(10),
        metrics,
        TrustedProxies.NONE);
    channel.pipeline().fireChannelActive();
  }

  private void send(String request) {
    channel.writeInbound(Unpooled.copiedBuffer(request, StandardCharsets.ISO_8859_1));
  }

  private void drainOutput() {
    for (Object o = channel.readOutbound(); o != null; o = channel.readOutbound()) {
      ((ByteBuf) o).release();
    }
  }

  private String scrape() {
    return new String(metrics.scrape(null).body(), StandardCharsets.UTF_8);
  }

  @Test
  void aFinishedRequestIsCountedWithItsBytesQueueWaitAndId() {
    start();
    send("POST /fn/x HTTP/1.1\r\nHost: h\r\nX-Request-Id: id-7\r\nContent-Length: 3\r\n\r\nabc");
    ScriptedCall call = endpoint.next();
    call.respond(201, "hello");
    drainOutput();

    String text = scrape();
    assertThat(text)
        .contains("local_lambdas_requests_total{function=\"fn\",method=\"POST\",status=\"2xx\"} 1")
        .contains("local_lambdas_request_duration_seconds_count{function=\"fn\"} 1")
        .contains("local_lambdas_queue_wait_seconds_count{function=\"fn\"} 1")
        .contains("local_lambdas_request_body_bytes_total{function=\"fn\"} 3")
        .contains("local_lambdas_response_body_bytes_total{function=\"fn\"} 5")
        .contains("local_lambdas_open_connections 1");
    assertThat(metrics.function("fn").recentRequests())
        .singleElement()
        .satisfies(
            r -> {
              assertThat(r.requestId()).isEqualTo("id-7");
              assertThat(r.status()).isEqualTo(201);
              assertThat(r.path()).isEqualTo("/fn/x");
            });
  }

  @Test
  void refusalsAreCountedByCodeAndReason() {
    start();
    send("GET /nowhere HTTP/1.1\r\nHost: h\r\n\r\n");
    drainOutput();
    send("GET /fn/x HTTP/1.1\r\nHost: h\r\nContent-Length: 99999999999\r\n\r\n");
    drainOutput();
    assertThat(scrape())
        .contains("local_lambdas_rejected_requests_total{code=\"404\",reason=\"no-route\"} 1")
        .contains(
            "local_lambdas_rejected_requests_total{code=\"413\",reason=\"body-too-large\"} 1");
  }

  @Test
  void aRequestTimeoutIsCountedAsA504AndATimeout() {
    start();
    send("GET /fn/x HTTP/1.1\r\nHost: h\r\n\r\n");
    ScriptedCall call = endpoint.next();
    channel.advanceTimeBy(31, TimeUnit.SECONDS);
    channel.runScheduledPendingTasks();
    call.release(Outcome.HUNG); // the instance lets go of the cancelled call
    drainOutput();
    assertThat(scrape())
        .contains("local_lambdas_timeouts_total{function=\"fn\",kind=\"request\"} 1")
        .contains("local_lambdas_requests_total{function=\"fn\",method=\"GET\",status=\"5xx\"} 1");
  }

  @Test
  void closedConnectionsAreNoLongerOpen() {
    start();
    channel.close();
    assertThat(scrape()).contains("local_lambdas_open_connections 0");
  }
}
