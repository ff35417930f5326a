package dev.locallambdas.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.locallambdas.manifest.FunctionSpec;
import dev.locallambdas.server.Gateway;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The examples of every SDK (Python, Node, Java) and the HTTP-mode example, run as real child
 * processes behind a real gateway: query strings, the manifest's environment, a 5 MB streamed echo
 * and twenty concurrent requests.
 */
@ExtendWith(NoLeaks.class)
class SdkExamplesTest {
  /** One language's greeting example (reads GREETING) and echo example. */
  enum Sdk {
    PYTHON {
      @Override
      FunctionSpec.Builder hello() {
        return TestManifests.pythonExample("hello", "hello.py", "/hello/*");
      }

      @Override
      FunctionSpec.Builder echo() {
        return TestManifests.pythonExample("echo", "echo.py", "/echo");
      }
    },
    NODE {
      @Override
      FunctionSpec.Builder hello() {
        return TestManifests.nodeExample("hello", "hello.js", "/hello/*");
      }

      @Override
      FunctionSpec.Builder echo() {
        return TestManifests.nodeExample("echo", "echo.js", "/echo");
      }
    },
    JAVA {
      @Override
      FunctionSpec.Builder hello() {
        return TestManifests.javaExample("hello", "example.Hello", "/hello/*");
      }

      @Override
      FunctionSpec.Builder echo() {
        return TestManifests.javaExample("echo", "example.Echo", "/echo");
      }
    },
    /** examples/http/server.py, one program: GET greets, POST echoes. */
    HTTP {
      @Override
      FunctionSpec.Builder hello() {
        return TestManifests.httpExample("hello", "/hello/*");
      }

      @Override
      FunctionSpec.Builder echo() {
        return TestManifests.httpExample("echo", "/echo");
      }
    };

    abstract FunctionSpec.Builder hello();

    abstract FunctionSpec.Builder echo();
  }

  private Gateway gateway;
  private HttpTestClient http;

  private void start(Sdk sdk) throws IOException {
    gateway =
        Gateway.start(
            TestManifests.manifest(
                sdk.hello().env("GREETING", "hej from " + sdk).build(), sdk.echo().build()),
            new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    http = new HttpTestClient(gateway.address());
  }

  @AfterEach
  void stop() {
    if (gateway != null) {
      Path run = gateway.supervisor().runDirectory();
      gateway.close();
      assertThat(run).as("run directory with socket files is removed").doesNotExist();
    }
  }

  /**
   * The example's JSON with the blank after each colon removed, so all four spellings compare
   * alike.
   */
  private static String compact(HttpResponse<String> r) {
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return r.body().replace("\": ", "\":");
  }

  @ParameterizedTest
  @EnumSource(Sdk.class)
  void getSeesPathQueryAndTheManifestsEnvironment(Sdk sdk) throws Exception {
    start(sdk);
    HttpResponse<String> r = http.get("/hello/world?name=ada&n=1");
    assertThat(r.headers().firstValue("content-type"))
        .hasValueSatisfying(t -> assertThat(t).startsWith("application/json"));
    assertThat(compact(r))
        .contains("\"greeting\":\"hej from " + sdk + "\"")
        .contains("\"path\":\"/hello/world\"")
        .contains("\"query\":\"name=ada&n=1\"");
    assertThat(compact(http.get("/hello/world"))).contains("\"query\":null");
  }

  @ParameterizedTest
  @EnumSource(Sdk.class)
  void echoesFiveMegabytesByteForByte(Sdk sdk) throws Exception {
    start(sdk);
    byte[] body = new byte[5 * 1024 * 1024];
    new Random(sdk.name().hashCode()).nextBytes(body);
    assertThat(http.postStreaming("/echo", body)).isEqualTo(body);
    // The instance is still good afterwards.
    byte[] small = "after the big one".getBytes(java.nio.charset.StandardCharsets.UTF_8);
    assertThat(http.post("/echo", small).body()).isEqualTo(small);
  }

  @ParameterizedTest
  @EnumSource(Sdk.class)
  void answersTwentyConcurrentRequestsEachWithItsOwnAnswer(Sdk sdk) throws Exception {
    start(sdk);
    int n = 20;
    try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
      List<Future<HttpResponse<String>>> gets = new ArrayList<>();
      List<Future<HttpResponse<byte[]>>> posts = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        String query = "/hello/c?i=" + i;
        byte[] body = ("body " + i).getBytes(java.nio.charset.StandardCharsets.UTF_8);
        gets.add(pool.submit(() -> http.get(query)));
        posts.add(pool.submit(() -> http.post("/echo", body)));
      }
      for (int i = 0; i < n; i++) {
        assertThat(compact(gets.get(i).get())).contains("\"query\":\"i=" + i + "\"");
        HttpResponse<byte[]> echoed = posts.get(i).get();
        assertThat(echoed.statusCode())
            .as(new String(echoed.body(), java.nio.charset.StandardCharsets.UTF_8))
            .isEqualTo(200);
        assertThat(new String(echoed.body(), java.nio.charset.StandardCharsets.UTF_8))
            .isEqualTo("body " + i);
      }
    }
  }
}
