package dev.locallambdas.bench.frontdoor;

import io.helidon.http.HeaderValues;
import io.helidon.webserver.WebServer;

/** Helidon 4 WebServer: blocking routes on virtual threads (its only model). */
final class HelidonServer implements AutoCloseable {
  private final WebServer server;

  private HelidonServer(WebServer server) {
    this.server = server;
  }

  static HelidonServer start(int port) {
    WebServer server =
        WebServer.builder()
            .host(Hello.HOST)
            .port(port)
            .routing(
                routing ->
                    routing.get(
                        "/*",
                        (req, res) -> {
                          res.header(HeaderValues.CONTENT_TYPE_TEXT_PLAIN);
                          res.send(Hello.BODY);
                        }))
            .build()
            .start();
    return new HelidonServer(server);
  }

  @Override
  public void close() {
    server.stop();
  }
}
