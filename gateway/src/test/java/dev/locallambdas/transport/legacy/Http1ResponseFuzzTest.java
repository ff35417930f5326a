package dev.locallambdas.transport.legacy;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.locallambdas.exchange.BodySource;
import dev.locallambdas.exchange.Headers;
import dev.locallambdas.transport.TransportException;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.Arrays;
import org.junit.jupiter.api.AfterAll;

/**
 * The HTTP client's response parser (status line, fields, Content-Length and chunked framing,
 * trailers) under arbitrary bytes from a child's server, over a real loopback socket: the answer is
 * a response whose body reads to its end, or an {@link IOException} (a {@link TransportException}
 * for everything the child did wrong); nothing else escapes, and reading never hangs once the child
 * has closed. The first input byte picks GET or HEAD. Runs the checked-in corpus in CI; {@code
 * JAZZER_FUZZ=1} fuzzes.
 */
class Http1ResponseFuzzTest {
  private static final int MAX_INPUT = 64 * 1024;
  private static ServerSocketChannel server;

  private static synchronized InetSocketAddress serverAddress() throws IOException {
    if (server == null) {
      server =
          ServerSocketChannel.open()
              .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    }
    return (InetSocketAddress) server.getLocalAddress();
  }

  @AfterAll
  static synchronized void closeServer() throws IOException {
    if (server != null) {
      server.close();
      server = null;
    }
  }

  @FuzzTest(maxDuration = "30s")
  void parsesTheResponseOrFailsWithAnIOException(byte[] input) throws Exception {
    if (input.length == 0) {
      return;
    }
    String method = (input[0] & 1) == 0 ? "GET" : "HEAD";
    byte[] response = Arrays.copyOfRange(input, 1, Math.min(input.length, MAX_INPUT));
    InetSocketAddress address = serverAddress();
    Thread child = Thread.ofVirtual().name("fuzz-child").start(() -> serve(response));
    try (Http1Client client = new Http1Client(address, "fuzz child", "localhost", 1)) {
      try (Http1Response r = client.send(method, "/x", Headers.empty(), BodySource.empty())) {
        assertThat(r.status()).isBetween(200, 599);
        byte[] body = r.readAll(MAX_INPUT);
        if (method.equals("HEAD") || r.status() == 204 || r.status() == 304) {
          assertThat(body).isEmpty();
        }
        if (r.contentLength() >= 0) {
          assertThat((long) body.length).isEqualTo(r.contentLength());
        }
        for (int i = 0; i < r.headers().size(); i++) {
          assertThat(r.headers().value(i)).doesNotContain("\r").doesNotContain("\n");
        }
      } catch (IOException expected) {
        // The child's answer was refused or cut short: the gateway answers 502.
      }
    } finally {
      child.join();
    }
  }

  /** Accepts one connection, reads the request head, answers {@code response} and closes. */
  private static void serve(byte[] response) {
    try (SocketChannel c = server.accept()) {
      ByteBuffer in = ByteBuffer.allocate(4096);
      while (!endsHead(in)) {
        if (c.read(in) < 0) {
          return;
        }
      }
      ByteBuffer out = ByteBuffer.wrap(response);
      while (out.hasRemaining()) {
        c.write(out);
      }
      c.shutdownOutput();
      // Wait for the client to close, so that closing here never resets unread bytes.
      in.clear();
      while (c.read(in) >= 0) {
        in.clear();
      }
    } catch (IOException e) {
      // The client closed first (it refused the answer early): nothing left to do.
    }
  }

  private static boolean endsHead(ByteBuffer in) {
    int n = in.position();
    return n >= 4
        && in.get(n - 4) == '\r'
        && in.get(n - 3) == '\n'
        && in.get(n - 2) == '\r'
        && in.get(n - 1) == '\n';
  }
}
