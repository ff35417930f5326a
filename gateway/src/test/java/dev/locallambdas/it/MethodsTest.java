package dev.locallambdas.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.locallambdas.manifest.FunctionSpec;
import dev.locallambdas.server.Gateway;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Unknown methods reach a function only when its manifest lists them. */
@ExtendWith(NoLeaks.class)
class MethodsTest {
  private Gateway gateway;

  @AfterEach
  void stop() {
    if (gateway != null) {
      gateway.close();
    }
  }

  private String send(String method, String path) throws IOException {
    try (Socket s = new Socket(InetAddress.getLoopbackAddress(), gateway.address().getPort())) {
      s.getOutputStream()
          .write(
              (method + " " + path + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
                  .getBytes(StandardCharsets.US_ASCII));
      return new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
    }
  }

  @Test
  void unknownMethodGets501UnlessTheFunctionListsIt() throws Exception {
    gateway =
        Gateway.start(
            TestManifests.manifest(
                TestManifests.cue("plain").build(),
                TestManifests.cue("dav").method("PROPFIND").build()),
            new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    String refused = send("PROPFIND", "/plain/hello");
    assertThat(refused).startsWith("HTTP/1.1 501").contains("<method>PROPFIND</method>");
    assertThat(send("PROPFIND", "/dav/hello")).startsWith("HTTP/1.1 200").contains("\"count\": 1");
    assertThat(send("PATCH", "/plain/hello")).startsWith("HTTP/1.1 200");
  }

  @Test
  void connectAndTraceCannotBeConfigured() {
    assertThatThrownBy(() -> FunctionSpec.builder("x").method("TRACE"))
        .hasMessageContaining("never forwards CONNECT or TRACE");
    assertThatThrownBy(() -> FunctionSpec.builder("x").method("BAD METHOD"))
        .hasMessageContaining("'BAD METHOD'");
  }
}
