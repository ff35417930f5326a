package dev.locallambdas.bench.frontdoor;

import java.util.Locale;

/**
 * Starts one candidate front door on 127.0.0.1 and blocks until the process is killed.
 *
 * <p>Usage: {@code Main <netty-epoll|netty-nio|jdk-httpserver|helidon|jetty> <port>}. Every
 * candidate answers any GET with 200, {@code text/plain}, body "hello\n", keep-alive.
 */
public final class Main {
  private Main() {}

  public static void main(String[] args) throws Exception {
    if (args.length != 2) {
      throw new IllegalArgumentException(
          "usage: Main <netty-epoll|netty-nio|jdk-httpserver|helidon|jetty> <port>, got "
              + args.length
              + " arguments");
    }
    String candidate = args[0].toLowerCase(Locale.ROOT);
    int port = Integer.parseInt(args[1]);
    AutoCloseable server =
        switch (candidate) {
          case "netty-epoll" -> NettyServer.start(NettyServer.Transport.EPOLL, port);
          case "netty-nio" -> NettyServer.start(NettyServer.Transport.NIO, port);
          case "jdk-httpserver" -> JdkServer.start(port);
          case "helidon" -> HelidonServer.start(port);
          case "jetty" -> JettyServer.start(port);
          default -> throw new IllegalArgumentException("unknown candidate: " + args[0]);
        };
    Runtime.getRuntime()
        .addShutdownHook(
            Thread.ofPlatform()
                .name("bench-shutdown")
                .unstarted(
                    () -> {
                      try {
                        server.close();
                      } catch (Exception e) {
                        System.err.println("close failed: " + e);
                      }
                    }));
    System.out.println(candidate + " listening on 127.0.0.1:" + port);
    Thread.currentThread().join();
  }
}
