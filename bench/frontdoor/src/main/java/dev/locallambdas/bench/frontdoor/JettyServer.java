package dev.locallambdas.bench.frontdoor;

import java.nio.ByteBuffer;
import java.util.concurrent.Executors;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

/** Jetty 12 core handler (no servlets), blocking handlers run on virtual threads. */
final class JettyServer implements AutoCloseable {
  private final Server server;

  private JettyServer(Server server) {
    this.server = server;
  }

  static JettyServer start(int port) throws Exception {
    QueuedThreadPool pool = new QueuedThreadPool();
    pool.setName("jetty");
    pool.setVirtualThreadsExecutor(Executors.newVirtualThreadPerTaskExecutor());
    Server server = new Server(pool);
    ServerConnector connector = new ServerConnector(server);
    connector.setHost(Hello.HOST);
    connector.setPort(port);
    server.addConnector(connector);
    server.setHandler(
        new Handler.Abstract() {
          @Override
          public boolean handle(Request request, Response response, Callback callback) {
            response.setStatus(200);
            response.getHeaders().put(HttpHeader.CONTENT_TYPE, Hello.CONTENT_TYPE);
            response.getHeaders().put(HttpHeader.CONTENT_LENGTH, Hello.BODY.length);
            response.write(true, ByteBuffer.wrap(Hello.BODY), callback);
            return true;
          }
        });
    server.start();
    return new JettyServer(server);
  }

  @Override
  public void close() throws Exception {
    server.stop();
  }
}
