package dev.locallambdas.transport.http;

import static dev.locallambdas.transport.http.Fixture.get;
import static dev.locallambdas.transport.http.Fixture.request;
import static dev.locallambdas.transport.http.Fixture.spec;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.locallambdas.exchange.Request;
import dev.locallambdas.it.NoLeaks;
import dev.locallambdas.loops.EventLoops;
import dev.locallambdas.manifest.HttpListen;
import dev.locallambdas.transport.Call;
import dev.locallambdas.transport.CallRecorder;
import dev.locallambdas.transport.Outcome;
import dev.locallambdas.transport.TransportException.Kind;
import io.netty.buffer.Unpooled;
import io.netty.channel.socket.DuplexChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a call reports when things go wrong with a real child, and what it tells the instance pool:
 * NOT_DELIVERED only when the child cannot have seen the request (the dispatcher may repeat it),
 * CHILD_FAILED when the connection broke later, and the releases that go with cancellation and with
 * closing the endpoint. Nothing is retried by the transport itself.
 */
@ExtendWith({NoLeaks.class, NoBufferLeaks.class})
class FailuresTest {
  private static EventLoops loops;

  @TempDir Path runDirectory;
  @TempDir Path logs;
  private Fixture child;

  @BeforeAll
  static void startLoops() {
    loops = EventLoops.start(2);
  }

  @AfterAll
  static void stopLoops() {
    loops.close();
  }

  @BeforeEach
  void setUp() {
    child = new Fixture(loops, runDirectory, logs);
  }

  @AfterEach
  void tearDown() throws Exception {
    child.close();
  }

  private CallRecorder failed(Request request) throws Exception {
    CallRecorder r = child.open(request, child.loopA).await();
    assertThat(r.failure()).as("failure").isNotNull();
    return r;
  }

  /** Opens {@code request} on loop A from a test thread, with a bare listener. */
  private Transcript open(Transcript t, Request request) throws Exception {
    child.loopA.submit(() -> t.call = child.endpoint.open(request, 0, child.loopA, t)).get();
    return t;
  }

  @Test
  void aRefusedConnectIsNotDeliveredAndBreaksTheInstance() throws Exception {
    child.prepare(spec(b -> b), new HttpTransport()); // nothing listens on the port

    CallRecorder r = failed(get("/echo/x"));
    assertThat(r.failure().kind()).isEqualTo(Kind.NOT_DELIVERED);
    assertThat(r.failure()).hasMessageContaining("cannot connect to child 'echo#1' at 127.0.0.1:");
    assertThat(r.awaitRelease()).isEqualTo(Outcome.BROKEN);
    await().until(() -> child.endpoint.openConnections() == 0);
  }

  @Test
  void aMissingUnixSocketIsNotDelivered() throws Exception {
    child.prepare(spec(b -> b.httpListen(HttpListen.UNIX)), new HttpTransport());

    CallRecorder r = failed(get("/echo/x"));
    assertThat(r.failure().kind()).isEqualTo(Kind.NOT_DELIVERED);
    assertThat(r.awaitRelease()).isEqualTo(Outcome.BROKEN);
  }

  /**
   * The keep-alive race, made certain: the next request goes out on the kept connection from inside
   * the release of the answer after which the child closes it, before the gateway can see the
   * close. The request never reached the child's handler.
   */
  @Test
  void theKeepAliveRaceOnAnIdempotentRequestIsNotDelivered() throws Exception {
    child.startEcho();
    Transcript next = new Transcript();
    Transcript first = new Transcript();
    first.then = () -> next.call = child.endpoint.open(get("/echo/next"), 0, child.loopA, next);
    open(first, get("/then-close"));

    assertThat(first.done.get(10, TimeUnit.SECONDS)).isEqualTo(Outcome.OK);
    assertThat(next.done.get(10, TimeUnit.SECONDS))
        .as("the child is fine; only a kept-alive connection is gone")
        .isEqualTo(Outcome.FAILED);
    assertThat(next.failure.kind()).isEqualTo(Kind.NOT_DELIVERED);
    assertThat(next.failure)
        .hasMessageContaining(
            "closed the connection (kept alive from an earlier request) before answering");
    assertThat(next.violations).isEmpty();
  }

  @Test
  void theKeepAliveRaceOnAPostIsChildFailed() throws Exception {
    child.startEcho();
    Transcript next = new Transcript();
    Transcript first = new Transcript();
    first.then =
        () -> {
          next.call = child.endpoint.open(request("POST", "/echo/p", 2), 0, child.loopA, next);
          next.call.body(Unpooled.copiedBuffer("hi", StandardCharsets.US_ASCII), true);
        };
    open(first, get("/then-close"));

    next.done.get(10, TimeUnit.SECONDS);
    assertThat(next.failure.kind())
        .as("a POST may have had its effect: never to be repeated")
        .isEqualTo(Kind.CHILD_FAILED);
    assertThat(next.failure).hasMessageContaining("without answering");
  }

  @Test
  void aKeptConnectionFoundShutIsNotDeliveredAndFailsOutsideOpen() throws Exception {
    child.startEcho();
    child.send(get("/echo/warm"), child.loopA);
    Transcript t = new Transcript();
    child
        .loopA
        .submit(
            () -> {
              ChildConnection kept = child.endpoint.pool(child.loopA).newestIdle();
              ((DuplexChannel) kept.channel()).shutdownOutput();
              t.call = child.endpoint.open(get("/echo/x"), 0, child.loopA, t);
              assertThat(t.released).as("no listener call from inside open").isNull();
              return null;
            })
        .get();

    assertThat(t.done.get(10, TimeUnit.SECONDS)).isEqualTo(Outcome.FAILED);
    assertThat(t.failure.kind()).isEqualTo(Kind.NOT_DELIVERED);
    assertThat(t.failure).hasMessageContaining("before the request was sent");
  }

  @Test
  void aChildDyingMidBodyFailsTheCallAfterTheHead() throws Exception {
    child.start(spec(b -> b), new HttpTransport(), "faults_http.py");

    CallRecorder r = failed(get("/echo/midbody"));
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.contentLength()).isEqualTo(100_000);
    assertThat(r.failure().kind()).isEqualTo(Kind.CHILD_FAILED);
    assertThat(r.failure()).hasMessageContaining("after 4096 of 100000 body bytes");
    assertThat(r.received()).isEqualTo(4096);
    assertThat(r.awaitRelease()).isEqualTo(Outcome.BROKEN);
  }

  @Test
  void aChildDyingBeforeAnsweringFailsTheCall() throws Exception {
    child.start(spec(b -> b), new HttpTransport(), "faults_http.py");

    CallRecorder r = child.open(request("POST", "/echo/postcrash", 3), child.loopA);
    r.send("abc".getBytes(StandardCharsets.US_ASCII), true);
    r.await();
    assertThat(r.failure().kind()).isEqualTo(Kind.CHILD_FAILED);
    assertThat(r.failure()).hasMessageContaining("without answering");
    assertThat(r.awaitRelease()).isEqualTo(Outcome.BROKEN);
  }

  @Test
  void cancellingForAGoneClientReleasesFailedAndClosesTheConnection() throws Exception {
    child.startEcho();
    int before = child.serverConnections();
    CallRecorder r = child.open(get("/slow"), child.loopB);
    await().until(() -> child.endpoint.openConnections() == 2);

    r.cancel(Call.Cancel.CLIENT_GONE);
    assertThat(r.awaitRelease()).isEqualTo(Outcome.FAILED);
    assertThat(r.failure()).as("no response event after a cancel").isNull();
    await().until(() -> child.endpoint.openConnections() == 1);
    assertThat(child.serverConnections()).isEqualTo(before + 1);
  }

  @Test
  void cancellingForTimeoutReleasesHung() throws Exception {
    child.startEcho();
    CallRecorder r = child.open(get("/slow"), child.loopA);
    await().until(() -> child.endpoint.openConnections() == 1);

    r.cancel(Call.Cancel.TIMEOUT);
    assertThat(r.awaitRelease()).isEqualTo(Outcome.HUNG);
    await().until(() -> child.endpoint.openConnections() == 0);
  }

  @Test
  void aTimeoutAfterTheClientWentUpgradesTheReleaseToHung() throws Exception {
    child.startEcho();
    CallRecorder r = child.open(get("/slow"), child.loopA);
    child
        .loopA
        .submit(
            () -> {
              r.call().cancel(Call.Cancel.CLIENT_GONE);
              r.call().cancel(Call.Cancel.TIMEOUT);
            })
        .get();

    assertThat(r.awaitRelease()).isEqualTo(Outcome.HUNG);
  }

  @Test
  void closingTheEndpointFailsCallsInFlightOnEveryLoop() throws Exception {
    child.startEcho();
    CallRecorder onA = child.open(get("/slow"), child.loopA);
    CallRecorder onB = child.open(get("/slow"), child.loopB);
    await().until(() -> child.endpoint.openConnections() == 2);

    child.endpoint.close();
    for (CallRecorder r : new CallRecorder[] {onA, onB}) {
      r.await();
      assertThat(r.failure().kind()).isEqualTo(Kind.CHILD_FAILED);
      assertThat(r.awaitRelease()).isEqualTo(Outcome.BROKEN);
    }
    await().until(() -> child.endpoint.openConnections() == 0);
  }

  @Test
  void aCallOpenedAfterCloseIsNotDelivered() throws Exception {
    child.startEcho();
    child.send(get("/echo/warm"), child.loopA);
    child.endpoint.close();

    CallRecorder r = failed(get("/echo/late"));
    assertThat(r.failure().kind()).isEqualTo(Kind.NOT_DELIVERED);
    assertThat(r.awaitRelease()).isEqualTo(Outcome.BROKEN);
  }
}
