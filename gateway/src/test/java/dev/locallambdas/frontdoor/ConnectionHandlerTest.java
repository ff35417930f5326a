package dev.locallambdas.frontdoor;

import static org.assertj.core.api.Assertions.assertThat;

import dev.locallambdas.clock.ManualClock;
import dev.locallambdas.frontdoor.ScriptedEndpoint.ScriptedCall;
import dev.locallambdas.function.FunctionPool;
import dev.locallambdas.function.TestPools;
import dev.locallambdas.manifest.FunctionSpec;
import dev.locallambdas.routing.RouteTable;
import dev.locallambdas.transport.Call;
import dev.locallambdas.transport.Outcome;
import dev.locallambdas.transport.TransportException.Kind;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The front door's request handling on an EmbeddedChannel: real HTTP bytes in, real bytes out, a
 * real instance pool, and calls the test answers itself. No socket, process or thread; the
 * channel's own clock drives the request timeout.
 */
class ConnectionHandlerTest {
  private final ManualClock clock = new ManualClock();
  private final ScriptedEndpoint endpoint = new ScriptedEndpoint();
  private final TestPools.Stops stops = new TestPools.Stops();
  private EmbeddedChannel channel;
  private RouteTable<FunctionPool> routes;

  @AfterEach
  void close() {
    if (channel != null) {
      channel.finishAndReleaseAll();
    }
  }

  private void start(UnaryOperator<FunctionSpec.Builder> settings) {
    FunctionSpec spec =
        settings
            .apply(
                FunctionSpec.builder("fn")
                    .executable("child")
                    .route("/fn/*")
                    .maxInstances(1)
                    .concurrency(1)
                    .requestTimeout(Duration.ofSeconds(30)))
            .build();
    FunctionPool pool = TestPools.instant(spec, () -> endpoint, clock, clock, stops);
    routes = RouteTable.<FunctionPool>builder().add("/fn/*", pool).build();
    channel = new EmbeddedChannel();
    channel.freezeTime();
    FrontDoor.configure(channel.pipeline(), routes, null, null, Duration.ofSeconds(10));
  }

  private void send(String request) {
    channel.writeInbound(Unpooled.copiedBuffer(request, StandardCharsets.ISO_8859_1));
  }

  /** Everything written to the client so far, as text. */
  private String written() {
    StringBuilder sb = new StringBuilder();
    for (Object o = channel.readOutbound(); o != null; o = channel.readOutbound()) {
      ByteBuf b = (ByteBuf) o;
      sb.append(b.toString(StandardCharsets.ISO_8859_1));
      b.release();
    }
    return sb.toString();
  }

  private static final String GET = "GET /fn/x?q=1 HTTP/1.1\r\nHost: h\r\n\r\n";

  @Test
  void aRequestReachesTheFunctionAndItsAnswerTheClient() {
    start(b -> b);
    send(GET);
    ScriptedCall call = endpoint.next();
    assertThat(call.request.target()).isEqualTo("/fn/x?q=1");
    assertThat(call.request.headers().get("x-forwarded-proto")).isEqualTo("http");
    String id = call.request.headers().get("x-request-id");
    assertThat(id).isNotBlank();
    assertThat(call.timeoutMillis).isEqualTo(30_000);

    call.respond(200, "hello");
    String out = written();
    assertThat(out).startsWith("HTTP/1.1 200 OK\r\n").endsWith("\r\n\r\nhello");
    assertThat(out)
        .contains("content-length: 5")
        .contains("date: ")
        .contains("x-request-id: " + id);
    assertThat(call.consumed).isEqualTo(5);
    assertThat(channel.isOpen()).isTrue();
  }

  @Test
  void aClientsRequestIdIsKept() {
    start(b -> b);
    send("GET /fn/x HTTP/1.1\r\nHost: h\r\nX-Request-Id: abc-123\r\n\r\n");
    ScriptedCall call = endpoint.next();
    assertThat(call.request.headers().all("x-request-id")).containsExactly("abc-123");
    call.respond(200, "ok");
    assertThat(written()).contains("x-request-id: abc-123");
  }

  @Test
  void pipelinedRequestsAreAnsweredInOrder() {
    start(b -> b);
    send(GET + "GET /fn/second HTTP/1.1\r\nHost: h\r\n\r\n");
    ScriptedCall first = endpoint.next();
    assertThat(endpoint.calls).isEmpty(); // the second waits for the first's answer
    first.respond(200, "one");
    ScriptedCall second = endpoint.next();
    assertThat(second.request.path()).isEqualTo("/fn/second");
    second.respond(200, "two");
    String out = written();
    assertThat(out.indexOf("one")).isLessThan(out.indexOf("two"));
  }

  @Test
  void theRequestTimeoutAnswers504AndStopsTheInstance() {
    start(b -> b.requestTimeout(Duration.ofSeconds(2)));
    send(GET);
    ScriptedCall call = endpoint.next();
    channel.advanceTimeBy(1999, TimeUnit.MILLISECONDS);
    channel.runScheduledPendingTasks();
    assertThat(written()).isEmpty();
    channel.advanceTimeBy(1, TimeUnit.MILLISECONDS);
    channel.runScheduledPendingTasks();
    assertThat(written()).startsWith("HTTP/1.1 504 Gateway Timeout").contains("request_timeout");
    assertThat(call.cancels).containsExactly(Call.Cancel.TIMEOUT);
    call.release(Outcome.HUNG);
    assertThat(stops.hung).containsExactly("fn#1");
  }

  @Test
  void aCallThatFailsBeforeItsHeadIsA502ThatSaysWhy() {
    start(b -> b);
    send(GET);
    endpoint.next().fail(Kind.PROTOCOL, "fn#1: child sent garbage", Outcome.BROKEN);
    channel.runPendingTasks();
    String out = written();
    assertThat(out).startsWith("HTTP/1.1 502 Bad Gateway").contains("child sent garbage");
    assertThat(stops.stopped).containsExactly("fn#1");
  }

  @Test
  void aCallThatFailsAfterItsHeadCutsTheConnection() {
    start(b -> b);
    send(GET);
    ScriptedCall call = endpoint.next();
    call.head(200, -1).chunk("part");
    call.fail(Kind.CHILD_FAILED, "child closed the connection", Outcome.BROKEN);
    assertThat(written())
        .startsWith("HTTP/1.1 200 OK")
        .contains("part")
        .doesNotEndWith("0\r\n\r\n");
    assertThat(channel.isOpen()).isFalse();
  }

  @Test
  void aRequestThatNeverReachedTheChildIsTriedOnceMore() {
    start(b -> b);
    send("POST /fn/x HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\nbody");
    ScriptedCall first = endpoint.next();
    assertThat(first.bodyText()).isEqualTo("body");
    first.fail(Kind.NOT_DELIVERED, "connection refused", Outcome.FAILED);
    ScriptedCall second = endpoint.next();
    assertThat(second.bodyText()).as("the body goes again").isEqualTo("body");
    assertThat(second.bodyEnded).isTrue();
    second.fail(Kind.NOT_DELIVERED, "refused again", Outcome.FAILED);
    channel.runPendingTasks();
    assertThat(written()).startsWith("HTTP/1.1 502").contains("refused again");
    assertThat(endpoint.calls).isEmpty();
  }

  @Test
  void aClientThatGoesAwayCancelsItsCall() {
    start(b -> b);
    send(GET);
    ScriptedCall call = endpoint.next();
    channel.close();
    assertThat(call.cancels).containsExactly(Call.Cancel.CLIENT_GONE);
    call.release(Outcome.FAILED); // the slot comes back: the next request gets the instance
  }

  @Test
  void theBodyWaitsWhileTheFunctionCannotTakeMore() {
    start(b -> b);
    send("POST /fn/x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n");
    ScriptedCall call = endpoint.next();
    assertThat(channel.config().isAutoRead()).isTrue();
    call.writable(false);
    assertThat(channel.config().isAutoRead()).as("reading stops").isFalse();
    call.writable(true);
    assertThat(channel.config().isAutoRead()).isTrue();
    send("2\r\nef\r\n0\r\n\r\n");
    assertThat(call.bodyText()).isEqualTo("abcdef");
    assertThat(call.bodyEnded).isTrue();
  }

  @Test
  void aChunkedBodyOverTheLimitIs413AndTheConnectionCloses() {
    start(b -> b.maxBodyBytes(4));
    send("POST /fn/x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nabcde\r\n");
    ScriptedCall call = endpoint.next();
    String out = written();
    assertThat(out).startsWith("HTTP/1.1 413 Content Too Large").contains("connection: close");
    assertThat(call.cancels).containsExactly(Call.Cancel.CLIENT_GONE);
  }

  @Test
  void aFullQueueIsRefusedWith503AndRetryAfter() {
    start(b -> b.queueSize(1));
    send(GET); // takes the only slot
    ScriptedCall call = endpoint.next();
    // A second and third connection: one waits, the next finds the queue full.
    EmbeddedChannel waiting = new EmbeddedChannel();
    EmbeddedChannel refused = new EmbeddedChannel();
    try {
      FrontDoor.configure(waiting.pipeline(), routes, null, null, Duration.ofSeconds(10));
      FrontDoor.configure(refused.pipeline(), routes, null, null, Duration.ofSeconds(10));
      waiting.writeInbound(Unpooled.copiedBuffer(GET, StandardCharsets.ISO_8859_1));
      refused.writeInbound(Unpooled.copiedBuffer(GET, StandardCharsets.ISO_8859_1));
      StringBuilder sb = new StringBuilder();
      for (ByteBuf b = refused.readOutbound(); b != null; b = refused.readOutbound()) {
        sb.append(b.toString(StandardCharsets.ISO_8859_1));
        b.release();
      }
      String out = sb.toString();
      assertThat(out).startsWith("HTTP/1.1 503").contains("retry-after: 1").contains("queue of 1");
      call.respond(200, "first");
      assertThat(endpoint.next().request.path()).isEqualTo("/fn/x"); // the waiter's turn
    } finally {
      waiting.finishAndReleaseAll();
      refused.finishAndReleaseAll();
    }
  }

  @Test
  void aRefusedMethodNamesTheFix() {
    start(b -> b);
    send("TRACE /fn/x HTTP/1.1\r\nHost: h\r\n\r\n");
    assertThat(written()).startsWith("HTTP/1.1 501").contains("never forwards TRACE");
    assertThat(endpoint.all).isEmpty();
  }
}
