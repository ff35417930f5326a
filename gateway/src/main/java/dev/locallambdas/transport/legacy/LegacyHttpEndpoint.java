package dev.locallambdas.transport.legacy;

import dev.locallambdas.exchange.BodySource;
import dev.locallambdas.exchange.Headers;
import dev.locallambdas.exchange.Request;
import dev.locallambdas.exchange.ResponseSink;
import dev.locallambdas.transport.BlockingEndpoint;
import dev.locallambdas.transport.EndpointContext;
import dev.locallambdas.transport.http.HttpReadiness;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Map;

/** The gateway's side of one legacy-http child: request JSON POSTed to "/" over keep-alive. */
final class LegacyHttpEndpoint extends BlockingEndpoint {
  private static final Headers POST_HEADERS =
      Headers.builder().add("content-type", "application/json").build();

  private final String label;
  private final int port;
  private final InetSocketAddress address;
  private final long maxBodyBytes;
  private final HttpReadiness readiness;
  private final Http1Client client;
  private final LegacyAnswerLog answers = new LegacyAnswerLog();
  private volatile String lastProblem;

  LegacyHttpEndpoint(EndpointContext context, int port, HttpReadiness readiness) {
    this.label = "child '" + context.label() + "'";
    this.port = port;
    this.address = new InetSocketAddress(InetAddress.getLoopbackAddress(), port);
    this.maxBodyBytes = context.function().maxBodyBytes();
    this.readiness = readiness;
    this.client =
        new Http1Client(
            address,
            label + " at 127.0.0.1:" + port,
            "127.0.0.1:" + port,
            context.function().concurrency());
  }

  @Override
  public Map<String, String> environment() {
    return Map.of("HTTP_ADDRESS", "127.0.0.1:" + port, "PORT", Integer.toString(port));
  }

  @Override
  public void awaitReady(Duration timeout, ProcessHandle process)
      throws IOException, InterruptedException {
    boolean[] ownerChecked = {false};
    readiness.await(
        label,
        "accept connections on 127.0.0.1:" + port,
        timeout,
        process,
        () -> {
          if (!HttpReadiness.connects(address, label, problem -> lastProblem = problem)) {
            return false;
          }
          if (!ownerChecked[0]) {
            ownerChecked[0] = true;
            HttpReadiness.requireOwnPort(label, port, process);
          }
          return true;
        },
        () -> lastProblem);
  }

  @Override
  protected void exchange(Request request, BodySource body, ResponseSink sink) throws IOException {
    byte[] message = LegacyMessages.request(request, LegacyMessages.readBody(body, maxBodyBytes));
    byte[] answer;
    try (Http1Response r = client.send("POST", "/", POST_HEADERS, BodySource.of(message))) {
      if (r.status() < 200 || r.status() > 299) {
        // Its web server answered, so it is serving: typically a handler that threw.
        throw answers.refuse(
            "http-status",
            label
                + " answered status "
                + r.status()
                + " to the request POSTed to /, instead of 2xx with the answer JSON (the original"
                + " local_lambdas also answered 502)");
      }
      answer = r.readAll(LegacyMessages.MAX_ANSWER_BYTES);
    }
    LegacyMessages.Answer a = LegacyMessages.answer(answer, label, answers);
    sink.head(a.status(), a.headers(), a.body().length);
    if (a.body().length > 0) {
      sink.body(ByteBuffer.wrap(a.body()));
    }
    sink.end();
  }

  @Override
  public void close() {
    client.close();
  }
}
