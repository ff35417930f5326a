package dev.locallambdas.frontdoor;

import static org.assertj.core.api.Assertions.assertThat;

import dev.locallambdas.function.FunctionPool;
import dev.locallambdas.routing.RouteTable;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The header timeout against slow-header clients: a head still incomplete when the timeout runs out
 * gets 408 and the connection is closed, however steadily the client trickles bytes; a head sent in
 * pieces that completes in time is served. No function is involved (no routes: 404).
 */
class HeaderTimeoutTest {
  private static final InetSocketAddress ANY_PORT =
      new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);

  private static FrontDoor start(Duration headerTimeout) throws IOException {
    return FrontDoor.start(ANY_PORT, RouteTable.<FunctionPool>builder().build(), headerTimeout);
  }

  @Test
  void headTrickledPastTheHeaderTimeoutGets408AndTheConnectionCloses() throws Exception {
    try (FrontDoor door = start(Duration.ofSeconds(1));
        RawConnection c = RawConnection.open(door.address())) {
      c.send("GET /x HTTP/1.1\r\nHost: t\r\nX-Slow: ");
      // A slowloris client: one more header byte every 100 ms, for as long as the socket lets it.
      Thread trickle =
          Thread.ofVirtual()
              .start(
                  () -> {
                    try {
                      while (!Thread.currentThread().isInterrupted()) {
                        c.send("a");
                        Thread.sleep(100);
                      }
                    } catch (IOException | InterruptedException e) {
                      // the gateway closed the connection, or the test is over
                    }
                  });
      try {
        RawResponse r = c.read();
        assertThat(r.status()).isEqualTo(408);
        assertThat(r.header("connection")).isEqualTo("close");
        assertThat(r.header("content-type")).isEqualTo("application/problem+json");
        assertThat(r.text()).contains("\"status\":408");
        assertThat(c.closedByServer()).isTrue();
      } finally {
        trickle.interrupt();
        trickle.join();
      }
    }
  }

  @Test
  void headSentInPiecesThatCompletesInTimeIsServed() throws Exception {
    try (FrontDoor door = start(FrontDoor.DEFAULT_HEADER_TIMEOUT);
        RawConnection c = RawConnection.open(door.address())) {
      for (String piece :
          new String[] {"GET /x", " HTTP/1.1\r\n", "Host: t\r\n", "X-A: 1\r\n", "\r\n"}) {
        c.send(piece);
        Thread.sleep(50);
      }
      assertThat(c.read().status()).isEqualTo(404);
      c.send("GET /y HTTP/1.1\r\nHost: t\r\n\r\n");
      assertThat(c.read().status()).as("the connection is kept").isEqualTo(404);
    }
  }

  @Test
  void headerTimeoutMustBePositive() {
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> start(Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("PT0S");
  }
}
