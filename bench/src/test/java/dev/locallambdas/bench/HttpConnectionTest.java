package dev.locallambdas.bench;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The load client against the JDK's HTTP server: fixed-length and chunked bodies on one connection.
 */
class HttpConnectionTest {
  private HttpServer server;
  private InetSocketAddress address;

  @BeforeEach
  void start() throws Exception {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext(
        "/fixed",
        x -> {
          byte[] b = "fixed body".getBytes(StandardCharsets.US_ASCII);
          x.getResponseHeaders().add("X-Cache", "HIT");
          x.sendResponseHeaders(200, b.length);
          try (OutputStream o = x.getResponseBody()) {
            o.write(b);
          }
        });
    server.createContext(
        "/chunked",
        x -> {
          x.sendResponseHeaders(201, 0); // 0: chunked
          try (OutputStream o = x.getResponseBody()) {
            for (int i = 0; i < 100; i++) {
              o.write(new byte[1000]);
              o.flush();
            }
          }
        });
    server.createContext(
        "/echo",
        x -> {
          byte[] b = x.getRequestBody().readAllBytes();
          x.sendResponseHeaders(200, b.length);
          try (OutputStream o = x.getResponseBody()) {
            o.write(b);
          }
        });
    server.start();
    address = server.getAddress();
  }

  @AfterEach
  void stop() {
    server.stop(0);
  }

  @Test
  void readsFixedAndChunkedResponsesOnOneKeptAliveConnection() throws Exception {
    try (HttpConnection c = new HttpConnection(address)) {
      for (int i = 0; i < 3; i++) {
        HttpConnection.Response fixed =
            c.exchange(HttpConnection.requestHead("GET", "/fixed", address, -1), null, null);
        assertThat(fixed.status()).isEqualTo(200);
        assertThat(fixed.bodyBytes()).isEqualTo(10);
        assertThat(fixed.xCache()).isEqualTo("HIT");
        HttpConnection.Response chunked =
            c.exchange(HttpConnection.requestHead("GET", "/chunked", address, -1), null, null);
        assertThat(chunked.status()).isEqualTo(201);
        assertThat(chunked.bodyBytes()).isEqualTo(100_000);
      }
    }
  }

  @Test
  void verifiesEchoedBodiesByteForByte() throws Exception {
    byte[] body = new byte[200_000];
    new java.util.Random(7).nextBytes(body);
    byte[] other = body.clone();
    other[150_000] ^= 1;
    try (HttpConnection c = new HttpConnection(address)) {
      byte[] head = HttpConnection.requestHead("POST", "/echo", address, body.length);
      assertThat(c.exchange(head, body, body).bodyMatches()).isTrue();
      assertThat(c.exchange(head, body, other).bodyMatches()).isFalse();
    }
  }

  @Test
  void jsonRoundTripsTheResultsModel() {
    Object doc = Json.parse("{\"a\": [1, 2.5, \"x\\n\"], \"b\": {\"c\": null, \"d\": true}}");
    assertThat(Json.parse(Json.write(doc))).isEqualTo(doc);
  }
}
