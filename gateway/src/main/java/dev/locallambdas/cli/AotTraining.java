package dev.locallambdas.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The training run behind the gateway's own AOT cache (JDK 25 {@code -XX:AOTCacheOutput}; the
 * launcher runs it once per build, docs/cold-starts.md): serves {@code MANIFEST} through the real
 * command line on a free loopback port, sends each {@code PATH} a few requests, then exits the JVM
 * the way SIGTERM does (shutdown hooks, drain, children stopped). The JVM writes the cache at that
 * exit: what a real start and its first requests load and link is in it.
 *
 * <p>Usage: {@code AotTraining MANIFEST PATH...}
 */
public final class AotTraining {
  private static final int ROUNDS = 20;

  private AotTraining() {}

  public static void main(String[] args) throws Exception {
    if (args.length < 1) {
      System.err.println("usage: AotTraining MANIFEST PATH...");
      System.exit(2);
    }
    int port;
    try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = probe.getLocalPort();
    }
    String bind = "127.0.0.1:" + port;
    Thread serve =
        Thread.ofPlatform()
            .name("training-serve")
            .daemon(true)
            .start(() -> Main.main(new String[] {"serve", args[0], "--bind", bind, "-q"}));
    long deadline = System.nanoTime() + 30_000_000_000L;
    List<String> paths = List.of(args).subList(1, args.length);
    boolean up = false;
    while (!up && System.nanoTime() < deadline && serve.isAlive()) {
      up = answers(port, "/.local-lambdas/functions");
      if (!up) {
        Thread.sleep(20);
      }
    }
    for (int i = 0; i < ROUNDS && up; i++) {
      for (String path : paths) {
        answers(port, path + (i % 2 == 0 ? "" : "?round=" + i));
      }
      answers(port, "/no/such/route");
    }
    System.exit(up ? 0 : 1);
  }

  /** One GET on a fresh connection; true when an HTTP answer came back. */
  private static boolean answers(int port, String path) {
    try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
      s.setSoTimeout(10_000);
      OutputStream out = s.getOutputStream();
      out.write(
          ("GET " + path + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
              .getBytes(StandardCharsets.US_ASCII));
      out.flush();
      InputStream in = s.getInputStream();
      byte[] start = in.readNBytes(12);
      in.transferTo(OutputStream.nullOutputStream());
      return new String(start, StandardCharsets.US_ASCII).startsWith("HTTP/1.1 ");
    } catch (IOException e) {
      return false;
    }
  }
}
