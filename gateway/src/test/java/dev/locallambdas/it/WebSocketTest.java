package dev.locallambdas.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.locallambdas.manifest.FunctionSpec;
import dev.locallambdas.server.Gateway;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * WebSockets through the front door to an http function with {@code <upgrade>websocket</upgrade>}
 * (children/websocket_echo.py, a hand-written RFC 6455 server), with the JDK's WebSocket client;
 * and the refusals for functions that do not allow or cannot carry an upgrade.
 */
@ExtendWith(NoLeaks.class)
class WebSocketTest {
  private Gateway gateway;
  private final HttpClient client = HttpClient.newHttpClient();

  @BeforeEach
  void start() throws Exception {
    FunctionSpec ws = TestManifests.websocketEcho("ws").upgrade("websocket").build();
    FunctionSpec closed = TestManifests.websocketEcho("closed").build();
    FunctionSpec pipe = TestManifests.pythonBarrier("pipe").build();
    gateway =
        Gateway.start(
            TestManifests.manifest(ws, closed, pipe),
            new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
  }

  @AfterEach
  void stop() {
    gateway.close();
  }

  private URI uri(String path) {
    return URI.create("ws://127.0.0.1:" + gateway.address().getPort() + path);
  }

  /** Collects whole messages as they arrive. */
  private static final class Inbox implements WebSocket.Listener {
    final LinkedBlockingQueue<Object> messages = new LinkedBlockingQueue<>();
    final CompletableFuture<Integer> closed = new CompletableFuture<>();
    private final StringBuilder text = new StringBuilder();
    private final java.io.ByteArrayOutputStream binary = new java.io.ByteArrayOutputStream();

    @Override
    public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
      text.append(data);
      if (last) {
        messages.add(text.toString());
        text.setLength(0);
      }
      ws.request(1);
      return null;
    }

    @Override
    public CompletionStage<?> onBinary(WebSocket ws, ByteBuffer data, boolean last) {
      byte[] b = new byte[data.remaining()];
      data.get(b);
      binary.writeBytes(b);
      if (last) {
        messages.add(binary.toByteArray());
        binary.reset();
      }
      ws.request(1);
      return null;
    }

    @Override
    public CompletionStage<?> onClose(WebSocket ws, int status, String reason) {
      closed.complete(status);
      return null;
    }

    Object next() throws InterruptedException {
      Object m = messages.poll(30, TimeUnit.SECONDS);
      assertThat(m).as("a message within 30 s").isNotNull();
      return m;
    }
  }

  @Test
  void messagesGoBothWaysThroughAnUpgradeEnabledHttpFunction() throws Exception {
    Inbox inbox = new Inbox();
    WebSocket ws =
        client.newWebSocketBuilder().buildAsync(uri("/ws/echo"), inbox).get(30, TimeUnit.SECONDS);
    ws.sendText("hello", true).get(10, TimeUnit.SECONDS);
    assertThat(inbox.next()).isEqualTo("hello");
    byte[] big = new byte[3 * 1024 * 1024];
    new java.util.Random(7).nextBytes(big);
    ws.sendBinary(ByteBuffer.wrap(big), true).get(30, TimeUnit.SECONDS);
    assertThat((byte[]) inbox.next()).isEqualTo(big);
    // A server push larger than any socket buffer arrives whole.
    ws.sendText("big 5000000", true).get(10, TimeUnit.SECONDS);
    assertThat(((byte[]) inbox.next()).length).isEqualTo(5_000_000);
    ws.sendClose(WebSocket.NORMAL_CLOSURE, "bye").get(10, TimeUnit.SECONDS);
    assertThat(inbox.closed.get(30, TimeUnit.SECONDS)).isEqualTo(WebSocket.NORMAL_CLOSURE);
  }

  @Test
  void theFunctionSeesTheUpgradeFieldsAndTheForwardingOnes() throws Exception {
    Inbox inbox = new Inbox();
    WebSocket ws =
        client
            .newWebSocketBuilder()
            .buildAsync(uri("/ws/headers?x=1"), inbox)
            .get(30, TimeUnit.SECONDS);
    String head = ((String) inbox.next()).toLowerCase(java.util.Locale.ROOT);
    assertThat(head)
        .startsWith("get /ws/headers?x=1 http/1.1")
        .contains("upgrade: websocket", "connection: upgrade", "sec-websocket-key:")
        .contains("x-forwarded-for: 127.0.0.1", "x-request-id:");
    ws.abort();
  }

  @Test
  void anUpgradeToAFunctionWithoutUpgradeIsRefusedWith501() throws Exception {
    assertThat(rawUpgrade("/closed/ws"))
        .startsWith("HTTP/1.1 501")
        .contains("<upgrade>websocket</upgrade>");
    assertThat(rawUpgrade("/pipe/ws")).startsWith("HTTP/1.1 501").contains("cannot carry it");
    // The same function still answers plain requests.
    assertThat(
            client
                .send(
                    java.net.http.HttpRequest.newBuilder(
                            URI.create(
                                "http://127.0.0.1:" + gateway.address().getPort() + "/closed/x"))
                        .build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString())
                .body())
        .isEqualTo("plain");
  }

  @Test
  void closingTheClientEndsTheRelayAndFreesTheInstance() throws Exception {
    for (int i = 0; i < 6; i++) { // more than the function's default max_instances
      Inbox inbox = new Inbox();
      WebSocket ws =
          client.newWebSocketBuilder().buildAsync(uri("/ws/echo"), inbox).get(30, TimeUnit.SECONDS);
      ws.sendText("n" + i, true).get(10, TimeUnit.SECONDS);
      assertThat(inbox.next()).isEqualTo("n" + i);
      ws.abort(); // the TCP connection just goes away
    }
    Awaitility.await()
        .atMost(Duration.ofSeconds(20))
        .untilAsserted(
            () ->
                assertThat(
                        client
                            .send(
                                java.net.http.HttpRequest.newBuilder(
                                        URI.create(
                                            "http://127.0.0.1:"
                                                + gateway.address().getPort()
                                                + "/ws/plain"))
                                    .build(),
                                java.net.http.HttpResponse.BodyHandlers.ofString())
                            .body())
                    .isEqualTo("plain"));
  }

  private String rawUpgrade(String path) throws Exception {
    try (Socket s = new Socket(InetAddress.getLoopbackAddress(), gateway.address().getPort())) {
      s.setSoTimeout(30_000);
      OutputStream out = s.getOutputStream();
      out.write(
          ("GET "
                  + path
                  + " HTTP/1.1\r\nHost: gw\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
                  + "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
              .getBytes(StandardCharsets.US_ASCII));
      out.flush();
      InputStream in = s.getInputStream();
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }
}
