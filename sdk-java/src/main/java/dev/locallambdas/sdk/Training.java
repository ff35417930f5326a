package dev.locallambdas.sdk;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A training run for the JDK's AOT cache (JDK 25: {@code -XX:AOTCacheOutput=FILE}; see
 * docs/cold-starts.md). Started with {@code LOCAL_LAMBDAS_TRAINING=N} and no {@code PIPE_ADDRESS},
 * {@link LocalLambdas#serve} plays the gateway's part itself over a Unix socket: the handshake, N
 * requests (GET, and POST with a small body, in turn) through the real code path and the handler,
 * then the end of the connection. The JVM then exits normally, which is when it writes the cache:
 * what a real start loads and links is in it.
 */
final class Training {
  static final String VARIABLE = "LOCAL_LAMBDAS_TRAINING";

  private Training() {}

  /** Serves {@code requests} training requests with {@code handler}; returns the exit status. */
  static int run(Handler handler, int requests) throws IOException {
    Path dir = Files.createTempDirectory("ll-training");
    Path socket = dir.resolve("gateway");
    try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
      server.bind(UnixDomainSocketAddress.of(socket));
      Thread gateway = new Thread(() -> play(server, requests), "training-gateway");
      gateway.setDaemon(true);
      gateway.start();
      Server.connect(socket.toString(), handler).run();
      gateway.join(10_000);
      return 0;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return 1;
    } finally {
      Files.deleteIfExists(socket);
      Files.deleteIfExists(dir);
    }
  }

  /** The gateway's side, as little of it as the SDK needs to do its real work. */
  private static void play(ServerSocketChannel server, int requests) {
    try (SocketChannel channel = server.accept();
        FrameChannel frames = new FrameChannel(channel)) {
      if (frames.read() == null) {
        return; // no HELLO
      }
      frames.send(
          Frame.WELCOME,
          0,
          0,
          new PayloadWriter()
              .u16(2)
              .u16(1)
              .u32(Frame.MAX_PAYLOAD)
              .str16("training")
              .u32(256 * 1024)
              .u32(0)
              .toByteArray());
      frames.version(2);
      byte[] body = "a training request body".getBytes(StandardCharsets.UTF_8);
      for (int id = 1; id <= requests; id++) {
        boolean post = id % 2 == 0;
        byte[] head =
            new PayloadWriter()
                .str16(post ? "POST" : "GET")
                .str32("/training/" + id + "?n=" + id)
                .headers(List.of("host", "localhost", "accept", "*/*"))
                .u32(30_000)
                .toByteArray();
        frames.send(Frame.REQUEST_HEAD, post ? 0 : Frame.END_STREAM, id, head);
        if (post) {
          frames.send(Frame.REQUEST_BODY, Frame.END_STREAM, id, body);
        }
        Frame f;
        do {
          f = frames.read();
          if (f == null) {
            return;
          }
        } while (f.stream() != id || !(f.endStream() || f.type() == Frame.RESET));
      }
    } catch (IOException e) {
      System.err.println("local-lambdas: training run failed: " + e);
    }
  }
}
