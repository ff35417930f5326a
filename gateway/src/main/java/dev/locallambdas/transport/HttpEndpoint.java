package dev.locallambdas.transport;

import dev.locallambdas.exchange.BodySource;
import dev.locallambdas.exchange.Headers;
import dev.locallambdas.exchange.HttpSyntax;
import dev.locallambdas.exchange.Request;
import dev.locallambdas.exchange.ResponseSink;
import dev.locallambdas.transport.http.HttpReadiness;
import java.io.IOException;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

/**
 * The gateway's side of one HTTP child: a transparent reverse proxy to the child's own server on a
 * loopback port or a Unix socket. Requests go out as given (the front door already cleaned them);
 * responses come back validated and without hop-by-hop fields.
 */
final class HttpEndpoint implements Endpoint {
  private final String label;
  private final SocketAddress address;
  private final String display;
  private final int port; // -1 for a Unix socket
  private final Path socketFile; // null for TCP
  private final String readyPath;
  private final Map<String, String> environment;
  private final HttpReadiness readiness;
  private final Http1Client client;
  private volatile String lastProblem;

  HttpEndpoint(
      EndpointContext context,
      SocketAddress address,
      String display,
      int port,
      Path socketFile,
      Map<String, String> environment,
      HttpReadiness readiness) {
    this.label = "child '" + context.label() + "'";
    this.address = address;
    this.display = display;
    this.port = port;
    this.socketFile = socketFile;
    this.readyPath = context.function().readyPath();
    this.environment = Map.copyOf(environment);
    this.readiness = readiness;
    String host = port > 0 ? "127.0.0.1:" + port : "localhost";
    this.client =
        new Http1Client(address, label + " at " + display, host, context.function().concurrency());
  }

  @Override
  public Map<String, String> environment() {
    return environment;
  }

  @Override
  public void awaitReady(Duration timeout, ProcessHandle process)
      throws IOException, InterruptedException {
    boolean[] ownerChecked = {false};
    String goal =
        readyPath == null
            ? "accept connections on " + display
            : "answer GET " + readyPath + " on " + display + " with a status below 500";
    readiness.await(
        label,
        goal,
        timeout,
        process,
        () -> {
          if (!HttpReadiness.connects(address, label, problem -> lastProblem = problem)) {
            return false;
          }
          if (!ownerChecked[0] && port > 0) {
            ownerChecked[0] = true;
            HttpReadiness.requireOwnPort(label, port, process);
          }
          return readyPath == null || answersReadyPath();
        },
        () -> lastProblem);
  }

  private boolean answersReadyPath() throws IOException {
    try (Http1Response r = client.send("GET", readyPath, Headers.empty(), BodySource.empty())) {
      while (r.read() != null) {
        // The body of a readiness answer carries nothing we need; reading it keeps the connection.
      }
      if (r.status() < 500) {
        return true;
      }
      lastProblem = "status " + r.status();
      return false;
    } catch (TransportException e) {
      lastProblem = e.getMessage();
      return false;
    }
  }

  @Override
  public void exchange(Request request, ResponseSink sink) throws IOException {
    try (Http1Response r =
        client.send(request.method(), request.target(), request.headers(), request.body())) {
      long length = request.method().equals("HEAD") ? r.declaredLength() : r.contentLength();
      sink.head(r.status(), HttpSyntax.endToEnd(r.headers()), length);
      for (ByteBuffer b = r.read(); b != null; b = r.read()) {
        sink.body(b);
      }
      sink.end();
    }
  }

  /** Connections open to the child, idle or in use (for tests). */
  int openConnections() {
    return client.openConnections();
  }

  @Override
  public void close() {
    client.close();
    if (socketFile != null) {
      try {
        Files.deleteIfExists(socketFile);
      } catch (IOException e) {
        // The run directory is private and removed with the gateway; a leftover file is harmless.
      }
    }
  }
}
