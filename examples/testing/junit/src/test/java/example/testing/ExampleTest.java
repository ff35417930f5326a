package example.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.locallambdas.junit5.LocalLambdas;
import dev.locallambdas.junit5.LocalLambdasUrl;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.Test;

/** An example JUnit 5 suite: one gateway for the run (the default scope), its URL injected. */
@LocalLambdas(manifest = "../manifest.xml")
class ExampleTest {
  private final HttpClient http = HttpClient.newHttpClient();

  @LocalLambdasUrl URI gateway;

  private HttpResponse<String> get(String path) throws Exception {
    return http.send(
        HttpRequest.newBuilder(gateway.resolve(path)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void thePythonFunctionReadsItsEnvFile() throws Exception {
    HttpResponse<String> r = get("/python/hi");
    assertEquals(200, r.statusCode());
    assertTrue(r.body().contains("hello from an env file"), r.body());
  }

  @Test
  void theNodeFunctionAnswers(@LocalLambdasUrl String url) throws Exception {
    assertTrue(url.startsWith("http://127.0.0.1:"), url);
    assertEquals(200, get("/node/hi").statusCode());
  }
}
