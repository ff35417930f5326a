package dev.locallambdas.bench.frontdoor;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/** The JDK's built-in server, each exchange handled on its own virtual thread. */
final class JdkServer implements AutoCloseable {
  private final HttpServer server;
  private final ExecutorService executor;

  private JdkServer(HttpServer server, ExecutorService executor) {
    this.server = server;
    this.executor = executor;
  }

  static JdkServer start(int port) throws IOException {
    HttpServer server = HttpServer.create(new InetSocketAddress(Hello.HOST, port), 1024);
    ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
    server.setExecutor(executor);
    server.createContext("/", JdkServer::handle);
    server.start();
    return new JdkServer(server, executor);
  }

  private static void handle(HttpExchange exchange) throws IOException {
    try (exchange) {
      exchange.getRequestBody().transferTo(OutputStream.nullOutputStream());
      exchange.getResponseHeaders().set("Content-Type", Hello.CONTENT_TYPE);
      exchange.sendResponseHeaders(200, Hello.BODY.length);
      exchange.getResponseBody().write(Hello.BODY);
    }
  }

  @Override
  public void close() {
    server.stop(0);
    executor.close();
  }
}
