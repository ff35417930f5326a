package dev.locallambdas.sdk;

import java.io.IOException;

/**
 * Entry point of a Java function run by local-lambdas over the pipe protocol.
 *
 * <pre>{@code
 * public static void main(String[] args) {
 *   LocalLambdas.serve(request -> Response.ok("hello"));
 * }
 * }</pre>
 *
 * <p>Messages go to stderr directly: java.util.logging would add to the cold start.
 */
public final class LocalLambdas {

  private LocalLambdas() {}

  /**
   * Connects to the gateway at {@code PIPE_ADDRESS} and serves requests until the gateway goes
   * away, then exits the JVM with status 0 (1 after a protocol or connection error, 2 when {@code
   * PIPE_ADDRESS} is not set). Never returns.
   */
  public static void serve(Handler handler) {
    if (handler == null) {
      throw new IllegalArgumentException("handler is null");
    }
    String address = System.getenv("PIPE_ADDRESS");
    if (address == null || address.isEmpty()) {
      System.err.println("run me under local-lambdas; PIPE_ADDRESS is not set");
      System.exit(2);
    }
    Server server;
    try {
      server = Server.connect(address, handler);
    } catch (IOException | RuntimeException e) {
      System.err.println("local-lambdas: cannot connect to PIPE_ADDRESS " + address + ": " + e);
      System.exit(1);
      return;
    }
    int status = 0;
    try {
      server.run();
    } catch (ProtocolException e) {
      System.err.println("local-lambdas: protocol error: " + e.getMessage());
      status = 1;
    } catch (IOException e) {
      System.err.println("local-lambdas: connection failed: " + e);
      status = 1;
    }
    System.exit(status);
  }
}
