package dev.locallambdas.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.locallambdas.function.FunctionPool;
import dev.locallambdas.function.InstanceState;
import dev.locallambdas.function.InstanceView;
import dev.locallambdas.function.StartRecord;
import dev.locallambdas.manifest.FunctionSpec;
import dev.locallambdas.server.Gateway;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Spare instances and fork templates with real processes (the pool's rules are unit-tested in
 * FunctionPoolTest).
 */
@ExtendWith(NoLeaks.class)
class ColdStartTest {
  private Gateway gateway;
  private HttpTestClient http;
  private final List<String> log = new CopyOnWriteArrayList<>();
  private final Handler capture =
      new Handler() {
        @Override
        public void publish(LogRecord r) {
          log.add(r.getMessage());
        }

        @Override
        public void flush() {}

        @Override
        public void close() {}
      };

  @BeforeEach
  void captureLog() {
    Logger.getLogger("dev.locallambdas.function").addHandler(capture);
  }

  private void start(FunctionSpec... functions) throws IOException {
    gateway =
        Gateway.start(
            TestManifests.manifest(functions),
            new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    http = new HttpTestClient(gateway.address());
  }

  @AfterEach
  void stop() {
    Logger.getLogger("dev.locallambdas.function").removeHandler(capture);
    if (gateway != null) {
      Path run = gateway.supervisor().runDirectory();
      gateway.close();
      assertThat(run).as("run directory with socket files is removed").doesNotExist();
    }
  }

  private FunctionPool pool(String id) {
    return gateway.supervisor().pool(id);
  }

  /** The pids of the instances that are ready with nothing in flight. */
  private static List<Long> idleReady(FunctionPool pool) {
    return pool.instances().stream()
        .filter(v -> v.state() == InstanceState.READY && v.inFlight() == 0)
        .map(InstanceView::pid)
        .toList();
  }

  @Test
  void aRecycledInstanceIsReplacedByASpareStartedBeforeTheNextRequest() throws Exception {
    start(TestManifests.cue("cue").maxInstances(2).spare(1).maxRequestsPerInstance(1).build());
    FunctionPool pool = pool("cue");
    assertThat(pool.instances()).as("no spares before the first request").isEmpty();

    long first = pidOf(http.get("/cue/hello"));
    await().atMost(Duration.ofSeconds(10)).until(() -> idleReady(pool).size() == 1);
    long spare = idleReady(pool).getFirst();
    assertThat(spare).isNotEqualTo(first);

    long second = pidOf(http.get("/cue/hello"));
    assertThat(second).as("the second request is served by the spare").isEqualTo(spare);
    await()
        .atMost(Duration.ofSeconds(10))
        .until(
            () ->
                idleReady(pool).size() == 1
                    && !Set.of(first, second).contains(idleReady(pool).getFirst()));
  }

  // ---------------------------------------------------------------- fork templates

  /** The function's template process (a child of the gateway running template.py), if any. */
  private static List<ProcessHandle> templates() {
    return ProcessHandle.current()
        .children()
        .filter(
            p ->
                p.info().arguments().stream()
                    .flatMap(Arrays::stream)
                    .anyMatch(a -> a.endsWith("/template.py")))
        .toList();
  }

  private static boolean lastStartForked(FunctionPool pool) {
    List<StartRecord> starts = pool.recentStarts();
    return !starts.isEmpty() && starts.getLast().forked();
  }

  /**
   * Serves requests until one is served by an instance the template created. The template starts
   * with the gateway; a request that comes before it is ready gets a plain start, which is stopped
   * so that the next one starts afresh.
   */
  private void awaitForkedInstance(FunctionPool pool) {
    await()
        .atMost(Duration.ofSeconds(20))
        .until(
            () -> {
              if (http.get("/cue/hello").statusCode() != 200) {
                return false;
              }
              if (lastStartForked(pool)) {
                return true;
              }
              pool.stopInstances();
              await().atMost(Duration.ofSeconds(10)).until(() -> pool.instances().isEmpty());
              return false;
            });
  }

  @Test
  void aTemplateCreatesInstancesThatRunLikePlainOnes() throws Exception {
    start(TestManifests.cue("cue").template(List.of("json")).env("GREETING", "hi").build());
    FunctionPool pool = pool("cue");
    awaitForkedInstance(pool);

    HttpResponse<String> env = http.get("/cue/env?name=LOCAL_LAMBDAS_INSTANCE");
    assertThat(env.statusCode()).isEqualTo(200);
    assertThat(env.body()).contains("/cue#");
    assertThat(http.get("/cue/env?name=GREETING").body()).contains("hi");
    assertThat(http.get("/cue/env?name=LOCAL_LAMBDAS_TEMPLATE").body()).doesNotContain("sock");
    ProcessHandle template = templates().getFirst();
    long instance = pidOf(http.get("/cue/hello"));
    assertThat(ProcessHandle.of(instance).flatMap(ProcessHandle::parent))
        .as("the gateway is the instance's parent, not the template")
        .map(ProcessHandle::pid)
        .hasValue(ProcessHandle.current().pid());
    assertThat(instance).isNotEqualTo(template.pid());
  }

  @Test
  void instancesOutliveTheirTemplateWhichIsRestarted() throws Exception {
    start(TestManifests.cue("cue").template(List.of()).build());
    FunctionPool pool = pool("cue");
    await().atMost(Duration.ofSeconds(15)).until(() -> templates().size() == 1);
    ProcessHandle first = templates().getFirst();
    awaitForkedInstance(pool);
    long instance = pidOf(http.get("/cue/hello"));

    first.destroyForcibly();
    await().atMost(Duration.ofSeconds(15)).until(() -> !first.isAlive());
    assertThat(pidOf(http.get("/cue/hello"))).as("the instance lives on").isEqualTo(instance);
    await()
        .atMost(Duration.ofSeconds(15))
        .until(() -> templates().size() == 1 && templates().getFirst().pid() != first.pid());
  }

  @Test
  void aTemplateWhosePreloadStartsAThreadLeavesThePlainStart() throws Exception {
    start(
        TestManifests.cue("cue")
            .template(List.of("starts_thread"))
            .maxRequestsPerInstance(1)
            .build());
    FunctionPool pool = pool("cue");
    // The template refuses (and exits); every request is still served, by plain starts.
    await()
        .atMost(Duration.ofSeconds(15))
        .until(() -> log.stream().anyMatch(m -> m.contains("no fork template: the preloaded")));
    for (int i = 0; i < 3; i++) {
      assertThat(http.get("/cue/hello").statusCode()).isEqualTo(200);
    }
    assertThat(pool.recentStarts()).extracting(StartRecord::forked).containsOnly(false);
  }

  private static long pidOf(HttpResponse<String> r) {
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    String b = r.body();
    int i = b.indexOf("\"pid\": ") + 7;
    int j = i;
    while (j < b.length() && Character.isDigit(b.charAt(j))) {
      j++;
    }
    return Long.parseLong(b.substring(i, j));
  }
}
