package dev.locallambdas.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.locallambdas.manifest.FunctionSpec;
import dev.locallambdas.server.Gateway;
import dev.locallambdas.tls.LocalCertificate;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real browser on the HTTPS front door (gateway/src/test/browser/tls-websocket.mjs has the
 * steps): headless Chromium loads a page from an http function over HTTP/2 (ALPN h2, the gateway's
 * local certificate) and opens a WebSocket to the same origin, which the gateway relays to the
 * function over HTTP/1.1. Skipped, saying what to install, where Chromium or playwright-core is
 * missing (.ci/run installs both).
 */
@ExtendWith(NoLeaks.class)
class BrowserTlsTest {
  @TempDir Path temp;
  private Gateway gateway;

  @AfterEach
  void stop() {
    if (gateway != null) {
      gateway.close();
    }
  }

  @Test
  void aPageOverH2OpensAWebSocketToTheSameOrigin() throws Exception {
    Path chromium = BrowserScript.chromiumOrSkip();
    FunctionSpec ws = TestManifests.websocketEcho("ws").upgrade("websocket").build();
    gateway =
        Gateway.builder(TestManifests.manifest(ws))
            .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
            .tls(LocalCertificate.ensure(temp.resolve("tls")))
            .start();
    String base = "https://127.0.0.1:" + gateway.address().getPort();
    String output =
        BrowserScript.run("the browser test", "tls-websocket.mjs", base, chromium.toString());
    assertThat(output).contains("page over h2, WebSocket echoed");
  }
}
