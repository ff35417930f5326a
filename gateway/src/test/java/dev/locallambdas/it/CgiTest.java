package dev.locallambdas.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.locallambdas.manifest.FunctionSpec;
import dev.locallambdas.manifest.Protocol;
import dev.locallambdas.server.Gateway;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** A shell script as a CGI function (children/cgi.sh): one process per request, RFC 3875. */
@ExtendWith(NoLeaks.class)
class CgiTest {
  private Gateway gateway;
  private final HttpClient client =
      HttpClient.newBuilder()
          .version(HttpClient.Version.HTTP_1_1)
          .followRedirects(HttpClient.Redirect.NEVER)
          .build();

  @BeforeEach
  void start() throws Exception {
    FunctionSpec cgi =
        FunctionSpec.builder("cgi")
            .executable("sh")
            .arg(TestManifests.child("cgi.sh").toString())
            .protocol(Protocol.CGI)
            .route("/cgi/*")
            .workingDir(TestManifests.repo())
            .build();
    gateway =
        Gateway.start(
            TestManifests.manifest(cgi),
            new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
  }

  @AfterEach
  void stop() {
    gateway.close();
  }

  private HttpResponse<String> send(HttpRequest.Builder b) throws Exception {
    return client.send(
        b.timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
  }

  private HttpRequest.Builder at(String pathAndQuery) {
    return HttpRequest.newBuilder(
        URI.create("http://127.0.0.1:" + gateway.address().getPort() + pathAndQuery));
  }

  @Test
  void theProgramGetsTheMetaVariablesAndItsHeadersAndStatusAreTheResponse() throws Exception {
    HttpResponse<String> r = send(at("/cgi/a/b?x=1").header("User-Agent", "test-agent"));
    assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
    assertThat(r.headers().firstValue("x-script")).hasValue("/cgi");
    assertThat(r.headers().firstValue("content-type")).hasValue("text/plain");
    assertThat(r.body())
        .contains("method=GET")
        .contains("path_info=/a/b")
        .contains("query=x=1")
        .contains("server=127.0.0.1")
        .contains("ua=test-agent")
        .contains("gateway=CGI/1.1");
  }

  @Test
  void theBodyGoesToStdinAndEveryRequestIsAProcessOfItsOwn() throws Exception {
    HttpResponse<String> r =
        send(at("/cgi/echo").POST(HttpRequest.BodyPublishers.ofString("posted body")));
    assertThat(r.statusCode()).isEqualTo(201);
    assertThat(r.body()).contains("method=POST").contains("length=11").endsWith("posted body");
    assertThat(send(at("/cgi/again")).statusCode()).isEqualTo(201);
  }

  @Test
  void aLocationWithoutStatusIsARedirect() throws Exception {
    HttpResponse<String> r = send(at("/cgi/x?redirect"));
    assertThat(r.statusCode()).isEqualTo(302);
    assertThat(r.headers().firstValue("location")).hasValue("/elsewhere");
  }

  @Test
  void aProgramThatFailsBeforeItsHeadersGives502WithItsStderr() throws Exception {
    HttpResponse<String> r = send(at("/cgi/x?fail"));
    assertThat(r.statusCode()).as(r.body()).isEqualTo(502);
    assertThat(r.body()).contains("no complete header block").contains("exited with status 3");
  }
}
