package dev.locallambdas.transport.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.locallambdas.exchange.Headers;
import dev.locallambdas.exchange.Request;
import dev.locallambdas.loops.EventLoops;
import dev.locallambdas.manifest.FunctionSpec;
import dev.locallambdas.manifest.Protocol;
import dev.locallambdas.transport.CallRecorder;
import dev.locallambdas.transport.EndpointContext;
import dev.locallambdas.transport.Outcome;
import io.netty.channel.EventLoop;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.UnaryOperator;

/**
 * One real HTTP child behind an {@link HttpEndpoint}, for a test: prepares the endpoint, starts the
 * child, drives calls through {@link CallRecorder}, and at the end checks that nothing is left: no
 * connection, no child process, no call without its release or with a contract violation.
 */
final class Fixture {
  static final Duration STARTUP = Duration.ofSeconds(20);

  final EventLoops loops;
  final EventLoop loopA;
  final EventLoop loopB;
  final Path runDirectory;
  final Children children;
  private final List<CallRecorder> calls = new CopyOnWriteArrayList<>();
  HttpEndpoint endpoint;

  Fixture(EventLoops loops, Path runDirectory, Path logs) {
    this.loops = loops;
    this.loopA = loops.next();
    this.loopB = loops.next();
    assertThat(loopA).isNotSameAs(loopB);
    this.runDirectory = runDirectory;
    this.children = new Children(logs);
  }

  static FunctionSpec spec(UnaryOperator<FunctionSpec.Builder> more) {
    return more.apply(
            FunctionSpec.builder("echo")
                .executable("python3")
                .route("/echo/*")
                .protocol(Protocol.HTTP))
        .build();
  }

  HttpEndpoint prepare(FunctionSpec spec, HttpTransport transport) throws Exception {
    endpoint =
        (HttpEndpoint) transport.prepare(new EndpointContext(spec, 1, runDirectory, loops, null));
    return endpoint;
  }

  /** Prepares the endpoint, starts {@code script} as the child and waits until it is ready. */
  HttpEndpoint start(FunctionSpec spec, HttpTransport transport, String script) throws Exception {
    prepare(spec, transport);
    Process p = children.start(env(), "python3", Children.script(script).toString());
    endpoint.awaitReady(STARTUP, p.toHandle());
    return endpoint;
  }

  HttpEndpoint startEcho() throws Exception {
    return start(spec(b -> b), new HttpTransport(), "http_echo_server.py");
  }

  Map<String, String> env() {
    return endpoint.environment();
  }

  /** Opens a call on {@code loop}; the test drives and awaits it. */
  CallRecorder open(Request request, EventLoop loop) throws Exception {
    CallRecorder r = CallRecorder.open(endpoint, request, 0, loop);
    calls.add(r);
    return r;
  }

  /** Sends a request on loop A and waits for a complete answer. */
  CallRecorder send(Request request) throws Exception {
    return send(request, loopA);
  }

  CallRecorder send(Request request, EventLoop loop) throws Exception {
    CallRecorder r = open(request, loop).await();
    assertThat(r.failure()).as("failure").isNull();
    assertThat(r.ended()).isTrue();
    assertThat(r.awaitRelease()).isEqualTo(Outcome.OK);
    return r;
  }

  /** How many connections the echo child has accepted so far. */
  int serverConnections() throws Exception {
    return Integer.parseInt(send(get("/connections")).bodyText());
  }

  static Request get(String target) {
    return request("GET", target, 0);
  }

  /** A request whose body (of {@code length} bytes, -1 for chunked) the test sends itself. */
  static Request request(String method, String target, long length) {
    return request(method, target, length, Headers.empty());
  }

  static Request request(String method, String target, long length, Headers headers) {
    int q = target.indexOf('?');
    return new Request(
        method,
        q < 0 ? target : target.substring(0, q),
        q < 0 ? null : target.substring(q + 1),
        headers,
        length,
        "127.0.0.1");
  }

  /** Closes the endpoint, stops the children and checks that nothing was left behind. */
  void close() throws Exception {
    try {
      if (endpoint != null) {
        endpoint.close();
        await("connections to the child closed").until(() -> endpoint.openConnections() == 0);
      }
      for (CallRecorder r : calls) {
        r.awaitRelease();
        assertThat(r.violations()).as("listener contract").isEmpty();
      }
    } finally {
      children.stopAll();
    }
  }
}
