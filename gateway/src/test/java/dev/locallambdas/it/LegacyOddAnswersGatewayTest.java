package dev.locallambdas.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.locallambdas.function.FunctionPool;
import dev.locallambdas.manifest.FunctionSpec;
import dev.locallambdas.manifest.Protocol;
import dev.locallambdas.server.Gateway;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A child written for the original local_lambdas that answers oddly (children/legacy_odd.py),
 * behind a real gateway: the client gets what the original gave (or the closest thing HTTP can
 * carry), and the one process that gave those answers keeps serving. ADR 0007.
 */
@ExtendWith(NoLeaks.class)
class LegacyOddAnswersGatewayTest {
  private Gateway gateway;
  private HttpTestClient http;

  @AfterEach
  void stop() {
    if (gateway != null) {
      gateway.close();
    }
  }

  private void start(Protocol protocol) throws Exception {
    FunctionSpec odd =
        FunctionSpec.builder("odd")
            .executable("python3")
            .arg(TestManifests.child("legacy_odd.py").toString())
            .route("/odd/*")
            .protocol(protocol)
            .workingDir(TestManifests.repo())
            .build();
    gateway =
        Gateway.start(
            TestManifests.manifest(odd),
            new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    http = new HttpTestClient(gateway.address());
  }

  private FunctionPool pool() {
    return gateway.supervisor().pool("odd");
  }

  @ParameterizedTest
  @EnumSource(
      value = Protocol.class,
      names = {"LEGACY_PIPE", "LEGACY_HTTP"})
  void oddAnswersReachTheClientAndNeverRestartTheChild(Protocol protocol) throws Exception {
    start(protocol);
    HttpResponse<String> first = http.get("/odd/pid");
    assertThat(first.statusCode()).isEqualTo(200);
    String pid = first.headers().firstValue("x-pid").orElseThrow();

    assertThat(http.get("/odd/status-string").statusCode()).isEqualTo(200);
    assertThat(http.get("/odd/status-zero").statusCode()).isEqualTo(200);
    assertThat(http.get("/odd/status-999").statusCode()).isEqualTo(500);
    assertThat(http.get("/odd/status-101").statusCode()).isEqualTo(500);
    HttpResponse<String> header = http.get("/odd/header-number");
    assertThat(header.statusCode()).isEqualTo(200);
    assertThat(header.headers().firstValue("x-count")).isEmpty();

    HttpResponse<String> notJson = http.get("/odd/not-json");
    assertThat(notJson.statusCode()).isEqualTo(502);
    assertThat(notJson.headers().firstValue("content-type")).hasValue("application/problem+json");
    assertThat(notJson.body()).contains("not JSON");
    assertThat(http.get("/odd/header-bad-value").statusCode()).isEqualTo(502);

    HttpResponse<String> last = http.get("/odd/pid");
    assertThat(last.statusCode()).isEqualTo(200);
    assertThat(last.headers().firstValue("x-pid")).as("the same process answered").hasValue(pid);
    assertThat(pool().instances())
        .singleElement()
        .satisfies(i -> assertThat(i.pid()).isEqualTo(Long.parseLong(pid)));
  }
}
