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
    String training = System.getenv(Training.VARIABLE);
    if ((address == null || address.isEmpty()) && training != null) {
      train(handler, training);
    }
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

  /**
   * A training run for the JDK's AOT cache ({@code LOCAL_LAMBDAS_TRAINING=N}, see {@link
   * Training}): serves N requests to itself, then exits 0.
   */
  private static void train(Handler handler, String requests) {
    int n;
    try {
      n = Integer.parseInt(requests.strip());
    } catch (NumberFormatException e) {
      n = -1;
    }
    if (n < 1) {
      System.err.println(
          Training.VARIABLE
              + " must be a number of training requests (1 or more), not "
              + requests);
      System.exit(2);
    }
    int status;
    try {
      status = Training.run(handler, n);
    } catch (IOException | RuntimeException e) {
      System.err.println("local-lambdas: training run failed: " + e);
      status = 1;
    }
    System.exit(status);
  }
}
