package dev.locallambdas.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.locallambdas.manifest.FunctionSpec;
import dev.locallambdas.server.Gateway;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Concurrency above 1 inside one instance, with every SDK. Overlap is proven, not timed: the
 * barrier children (test resources children/barrier.*) answer "together" only when the given number
 * of requests are inside the handler at the same moment, and "alone" when their barrier times out.
 */
@ExtendWith(NoLeaks.class)
class SdkConcurrencyTest {
  @SuppressWarnings("ImmutableEnumChecker") // the field holds stateless method references
  enum Sdk {
    PYTHON(TestManifests::pythonBarrier),
    NODE(TestManifests::nodeBarrier),
    JAVA(TestManifests::javaBarrier),
    HTTP(TestManifests::httpBarrier);

    private final Function<String, FunctionSpec.Builder> barrier;

    Sdk(Function<String, FunctionSpec.Builder> barrier) {
      this.barrier = barrier;
    }

    FunctionSpec.Builder barrier() {
      return barrier.apply("barrier");
    }
  }

  private Gateway gateway;
  private HttpTestClient http;

  private void start(FunctionSpec spec) throws IOException {
    gateway =
        Gateway.start(
            TestManifests.manifest(spec),
            new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    http = new HttpTestClient(gateway.address());
  }

  @AfterEach
  void stop() {
    if (gateway != null) {
      gateway.close();
    }
  }

  private List<String> concurrentAnswers(int n) throws Exception {
    try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
      List<Future<HttpResponse<String>>> futures = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        String path = "/barrier/wait?i=" + i;
        futures.add(pool.submit(() -> http.get(path)));
      }
      List<String> answers = new ArrayList<>();
      for (Future<HttpResponse<String>> f : futures) {
        HttpResponse<String> r = f.get();
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        answers.add(r.body().trim());
      }
      return answers;
    }
  }

  @ParameterizedTest
  @EnumSource(Sdk.class)
  void fourRequestsAreInsideOneInstanceAtOnceWithConcurrencyFour(Sdk sdk) throws Exception {
    // A barrier timeout far above any scheduling delay (and below the 30 s request timeout).
    start(
        sdk.barrier()
            .concurrency(4)
            .maxInstances(1)
            .env("BARRIER_PARTIES", "4")
            .env("BARRIER_TIMEOUT_MS", "20000")
            .build());
    List<String> answers = concurrentAnswers(4);
    assertThat(answers).allSatisfy(a -> assertThat(a).startsWith("together "));
    assertThat(answers.stream().map(a -> a.substring(a.indexOf(' ') + 1)).distinct())
        .as("answered by one process")
        .hasSize(1);
    assertThat(gateway.supervisor().pool("barrier").instances()).hasSize(1);
  }

  /** The control: with concurrency 1 the same child never sees two requests at once. */
  @ParameterizedTest
  @EnumSource(Sdk.class)
  void requestsTakeTurnsWithConcurrencyOne(Sdk sdk) throws Exception {
    start(
        sdk.barrier()
            .concurrency(1)
            .maxInstances(1)
            .env("BARRIER_PARTIES", "2")
            .env("BARRIER_TIMEOUT_MS", "300")
            .build());
    assertThat(concurrentAnswers(2)).allSatisfy(a -> assertThat(a).startsWith("alone "));
  }
}
