package dev.locallambdas.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.locallambdas.function.FunctionPool;
import dev.locallambdas.function.InstanceView;
import dev.locallambdas.manifest.FunctionSpec;
import dev.locallambdas.server.Gateway;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

@ExtendWith(NoLeaks.class)
class GatewayLifecycleTest {
  @TempDir Path temp;
  private Gateway gateway;
  private HttpTestClient http;
  private final AtomicLong fakeNanos = new AtomicLong(1_000_000_000L);

  private void start(FunctionSpec... functions) throws IOException {
    gateway =
        Gateway.start(
            TestManifests.manifest(functions),
            new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    http = new HttpTestClient(gateway.address());
  }

  private void startWithFakeClock(FunctionSpec... functions) throws IOException {
    gateway =
        Gateway.start(
            TestManifests.manifest(functions),
            new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
            b -> b.clock(fakeNanos::get).backgroundCleanup(false));
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

  private FunctionPool pool(String id) {
    return gateway.supervisor().pool(id);
  }

  @Test
  void servesWarmRequestsFromOneProcess() throws Exception {
    start(TestManifests.cue("cue").build());
    HttpResponse<String> first = http.get("/cue/hello?x=1");
    HttpResponse<String> second = http.get("/cue/hello");
    assertThat(first.statusCode()).isEqualTo(200);
    assertThat(first.body()).contains("\"count\": 1").contains("\"query\": \"x=1\"");
    assertThat(second.body()).contains("\"count\": 2");
    assertThat(pool("cue").instances()).hasSize(1);
  }

  @Test
  void fiftyConcurrentFirstRequestsStartOneProcessWhenTheLimitIsOne() throws Exception {
    Path pids = Files.createDirectory(temp.resolve("pids"));
    start(TestManifests.cue("cue").maxInstances(1).env("CUE_PIDS_DIR", pids.toString()).build());
    List<Integer> statuses = concurrentGets(50, "/cue/sleep?ms=5");
    assertThat(statuses).hasSize(50).containsOnly(200);
    try (Stream<Path> s = Files.list(pids)) {
      assertThat(s.count()).as("processes started").isEqualTo(1);
    }
  }

  @Test
  void fiftyConcurrentFirstRequestsStartNoMoreThanMaxInstances() throws Exception {
    Path pids = Files.createDirectory(temp.resolve("pids"));
    start(TestManifests.cue("cue").maxInstances(3).env("CUE_PIDS_DIR", pids.toString()).build());
    List<Integer> statuses = concurrentGets(50, "/cue/sleep?ms=20");
    assertThat(statuses).hasSize(50).containsOnly(200);
    try (Stream<Path> s = Files.list(pids)) {
      assertThat(s.count()).as("processes started").isBetween(1L, 3L);
    }
  }

  private List<Integer> concurrentGets(int n, String path) throws Exception {
    try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
      List<Future<Integer>> futures = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        futures.add(pool.submit(() -> http.get(path).statusCode()));
      }
      List<Integer> out = new ArrayList<>();
      for (Future<Integer> f : futures) {
        out.add(f.get());
      }
      return out;
    }
  }

  @Test
  void crashAnswers502NamingTheExitAndTheNextRequestStartsAFreshInstance() throws Exception {
    start(TestManifests.cue("cue").build());
    long firstPid = pidOf(http.get("/cue/hello"));
    HttpResponse<String> crash = http.get("/cue/crash");
    assertThat(crash.statusCode()).isEqualTo(502);
    assertThat(crash.headers().firstValue("content-type")).hasValue("application/problem+json");
    assertThat(crash.body())
        .contains("\"function\":\"cue\"")
        .contains("status 3")
        .contains("crashing on request");
    HttpResponse<String> after = http.get("/cue/hello");
    assertThat(after.statusCode()).isEqualTo(200);
    assertThat(pidOf(after)).isNotEqualTo(firstPid);
  }

  @Test
  void hangingRequestGets504AndTheInstanceIsReplaced() throws Exception {
    start(TestManifests.cue("cue").requestTimeout(Duration.ofMillis(500)).build());
    long firstPid = pidOf(http.get("/cue/hello"));
    HttpResponse<String> hang = http.get("/cue/hang");
    assertThat(hang.statusCode()).isEqualTo(504);
    assertThat(hang.body()).contains("request_timeout");
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> ProcessHandle.of(firstPid).map(p -> !p.isAlive()).orElse(true));
    HttpResponse<String> after = http.get("/cue/hello");
    assertThat(after.statusCode()).isEqualTo(200);
    assertThat(pidOf(after)).isNotEqualTo(firstPid);
  }

  @Test
  void childThatFailsToStartGives503WithItsStderr() throws Exception {
    start(TestManifests.cue("cue").env("CUE_START", "fail").build());
    HttpResponse<String> r = http.get("/cue/hello");
    assertThat(r.statusCode()).isEqualTo(503);
    assertThat(r.body())
        .contains("did not become ready")
        .contains("refusing to start")
        .contains("status 1");
  }

  @Test
  void childThatNeverBecomesReadyIsKilledAtItsStartupTimeout() throws Exception {
    start(
        TestManifests.cue("cue")
            .env("CUE_START", "never")
            .startupTimeout(Duration.ofMillis(700))
            .build());
    HttpResponse<String> r = http.get("/cue/hello");
    assertThat(r.statusCode()).isEqualTo(503);
    assertThat(r.body()).contains("did not become ready");
    await().atMost(Duration.ofSeconds(10)).until(() -> NoLeaks.livingDescendants().isEmpty());
  }

  @Test
  void crashLoopBacksOffWithRetryAfterAndRetriesWhenTheBackOffEnds() throws Exception {
    startWithFakeClock(TestManifests.cue("cue").env("CUE_START", "fail").build());
    assertThat(http.get("/cue/hello").statusCode()).isEqualTo(503);
    assertThat(http.get("/cue/hello").statusCode()).isEqualTo(503);
    HttpResponse<String> looping = http.get("/cue/hello");
    assertThat(looping.statusCode()).isEqualTo(503);
    assertThat(looping.body()).contains("crash-loop").contains("refusing to start");
    assertThat(looping.headers().firstValue("retry-after")).isPresent();
    fakeNanos.addAndGet(Duration.ofMinutes(1).toNanos());
    HttpResponse<String> retried = http.get("/cue/hello");
    assertThat(retried.body()).contains("start-failed");
  }

  @Test
  void crashesWhileServingCountTowardsTheBackOff() throws Exception {
    startWithFakeClock(TestManifests.cue("cue").build());
    for (int i = 0; i < 2; i++) {
      assertThat(http.get("/cue/crash").statusCode()).isEqualTo(502);
      await().atMost(Duration.ofSeconds(10)).until(() -> pool("cue").instances().isEmpty());
    }
    HttpResponse<String> looping = http.get("/cue/hello");
    assertThat(looping.statusCode()).isEqualTo(503);
    assertThat(looping.body()).contains("crash-loop").contains("status 3");
    fakeNanos.addAndGet(Duration.ofMinutes(1).toNanos());
    assertThat(http.get("/cue/hello").statusCode()).isEqualTo(200);
  }

  @Test
  void idleInstanceIsStoppedAfterIdleTimeoutAndRestartedOnDemand() throws Exception {
    startWithFakeClock(TestManifests.cue("cue").idleTimeout(Duration.ofSeconds(30)).build());
    long pid = pidOf(http.get("/cue/hello"));
    fakeNanos.addAndGet(Duration.ofSeconds(29).toNanos());
    gateway.supervisor().cleanup(fakeNanos.get());
    assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive)).hasValue(true);
    fakeNanos.addAndGet(Duration.ofSeconds(2).toNanos());
    long next = gateway.supervisor().cleanup(fakeNanos.get());
    assertThat(next).isEqualTo(Long.MAX_VALUE);
    // A safety net, not a measurement: a loaded CI machine has taken more than 10 s here.
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> ProcessHandle.of(pid).map(p -> !p.isAlive()).orElse(true));
    await().atMost(Duration.ofSeconds(5)).until(() -> pool("cue").instances().isEmpty());
    long again = pidOf(http.get("/cue/hello"));
    assertThat(again).isNotEqualTo(pid);
  }

  @Test
  void idleStopNeverTakesAnInstanceWithARequestInFlight() throws Exception {
    startWithFakeClock(TestManifests.cue("cue").idleTimeout(Duration.ofSeconds(1)).build());
    pidOf(http.get("/cue/hello"));
    try (ExecutorService ex = Executors.newVirtualThreadPerTaskExecutor()) {
      Future<HttpResponse<String>> slow = ex.submit(() -> http.get("/cue/sleep?ms=800"));
      await()
          .until(
              () -> pool("cue").instances().stream().mapToInt(InstanceView::inFlight).sum() == 1);
      fakeNanos.addAndGet(Duration.ofMinutes(5).toNanos());
      gateway.supervisor().cleanup(fakeNanos.get());
      assertThat(slow.get().statusCode()).isEqualTo(200);
    }
  }

  @Test
  void childWritingTenMegabytesToStdoutDoesNotBlock() throws Exception {
    start(TestManifests.cue("cue").build());
    assertThat(http.get("/cue/flood?mb=10").statusCode()).isEqualTo(200);
  }

  @Test
  void largeBodiesStreamBothWaysByteForByte() throws Exception {
    start(TestManifests.cue("cue").build());
    byte[] body = new byte[20 * 1024 * 1024];
    new Random(7).nextBytes(body);
    assertThat(http.postStreaming("/cue/echo", body)).isEqualTo(body);
  }

  @Test
  void largeUploadIsStreamedToAChildThatReadsItAll() throws Exception {
    start(TestManifests.cue("cue").build());
    byte[] body = new byte[30 * 1024 * 1024];
    new Random(9).nextBytes(body);
    HttpResponse<byte[]> r = http.post("/cue/sha256", body);
    assertThat(r.statusCode()).isEqualTo(200);
    String expected =
        java.util.HexFormat.of()
            .formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(body));
    assertThat(new String(r.body(), StandardCharsets.UTF_8)).contains(expected);
  }

  @Test
  void largeResponseIsStreamedToTheClient() throws Exception {
    start(TestManifests.cue("cue").build());
    HttpResponse<byte[]> r = http.getBytes("/cue/big?mb=25");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).hasSize(25 * 1024 * 1024);
    assertThat(r.body()[300]).isEqualTo((byte) 44);
  }

  @Test
  void bodyLargerThanTheLimitIsRefusedWith413() throws Exception {
    start(TestManifests.cue("cue").maxBodyBytes(1024).build());
    HttpResponse<byte[]> r = http.post("/cue/echo", new byte[4096]);
    assertThat(r.statusCode()).isEqualTo(413);
    assertThat(new String(r.body(), StandardCharsets.UTF_8)).contains("max_body_size");
  }

  @Test
  void childBreakingTheProtocolGets502AndIsReplaced() throws Exception {
    start(TestManifests.raw("raw").build());
    for (String cue :
        new String[] {"badheader", "badname", "badstatus", "garbage", "oversized", "twohead"}) {
      HttpResponse<String> ok = http.get("/raw/ok");
      assertThat(ok.statusCode()).as("before " + cue).isEqualTo(200);
      long pid = pool("raw").instances().getFirst().pid();
      HttpResponse<String> r = http.get("/raw/" + cue);
      assertThat(r.statusCode()).as(cue + ": " + r.body()).isEqualTo(502);
      assertThat(r.headers().firstValue("set-cookie")).isEmpty();
      assertThat(r.body()).contains("bad-child-response").contains("raw#");
      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> ProcessHandle.of(pid).map(p -> !p.isAlive()).orElse(true));
    }
    assertThat(http.get("/raw/ok").statusCode()).isEqualTo(200);
  }

  @Test
  void childResettingARequestGets502AndKeepsServing() throws Exception {
    start(TestManifests.raw("raw").build());
    HttpResponse<String> r = http.get("/raw/reset");
    assertThat(r.statusCode()).isEqualTo(502);
    assertThat(r.body()).contains("handler gave up");
    assertThat(http.get("/raw/ok").statusCode()).isEqualTo(200);
    assertThat(pool("raw").instances()).hasSize(1);
  }

  @Test
  void childGetsManifestEnvironmentAndItsAddress() throws Exception {
    start(TestManifests.cue("cue").env("GREETING", "hej").build());
    assertThat(http.get("/cue/env?name=GREETING").body()).contains("hej");
    assertThat(http.get("/cue/env?name=PIPE_ADDRESS").body())
        .contains(gateway.supervisor().runDirectory().toString());
    assertThat(http.get("/cue/env?name=PATH").body()).doesNotContain("null");
  }

  @Test
  void unroutedPathGets404ProblemJson() throws Exception {
    start(TestManifests.cue("cue").build());
    HttpResponse<String> r = http.get("/nothing/here");
    assertThat(r.statusCode()).isEqualTo(404);
    assertThat(r.headers().firstValue("content-type")).hasValue("application/problem+json");
    assertThat(r.body()).contains("\"status\":404").contains("/nothing/here");
    assertThat(http.get("/cuex").statusCode()).isEqualTo(404);
  }

  @Test
  void forwardingHeadersAreTheGatewaysOwn() throws Exception {
    start(TestManifests.cue("cue").build());
    String body = http.get("/cue/headers").body();
    assertThat(body)
        .contains("x-forwarded-for")
        .contains("127.0.0.1")
        .contains("x-forwarded-proto");
  }

  @Test
  void overflowBeyondTheQueueGets503WithRetryAfter() throws Exception {
    start(TestManifests.cue("cue").maxInstances(1).queueSize(1).build());
    pidOf(http.get("/cue/hello"));
    try (ExecutorService ex = Executors.newVirtualThreadPerTaskExecutor()) {
      Future<HttpResponse<String>> busy = ex.submit(() -> http.get("/cue/sleep?ms=3000"));
      await().until(() -> pool("cue").inFlight() == 1);
      Future<HttpResponse<String>> queued = ex.submit(() -> http.get("/cue/hello"));
      // The queued request is waiting (not yet in flight); the next one finds the queue full.
      await()
          .atMost(Duration.ofSeconds(10))
          .untilAsserted(
              () -> {
                HttpResponse<String> overflow = http.get("/cue/hello");
                assertThat(overflow.statusCode()).isEqualTo(503);
                assertThat(overflow.headers().firstValue("retry-after")).hasValue("1");
                assertThat(overflow.body()).contains("queue").contains("\"function\":\"cue\"");
              });
      assertThat(busy.get().statusCode()).isEqualTo(200);
      assertThat(queued.get().statusCode()).isEqualTo(200);
    }
  }

  @Test
  void eagerFunctionStartsWithTheGatewayAndKeepsItsMinimum() throws Exception {
    Path pids = Files.createDirectory(temp.resolve("pids"));
    startWithFakeClock(
        TestManifests.cue("cue")
            .startPolicy(dev.locallambdas.manifest.StartPolicy.EAGER)
            .minInstances(2)
            .maxInstances(3)
            .idleTimeout(Duration.ofSeconds(1))
            .env("CUE_PIDS_DIR", pids.toString())
            .build());
    await().atMost(Duration.ofSeconds(20)).until(() -> readyCount("cue") == 2);
    fakeNanos.addAndGet(Duration.ofMinutes(10).toNanos());
    gateway.supervisor().cleanup(fakeNanos.get());
    assertThat(readyCount("cue")).as("min_instances survive idle stop").isEqualTo(2);
    long victim = pool("cue").instances().getFirst().pid();
    ProcessHandle.of(victim).ifPresent(ProcessHandle::destroyForcibly);
    await()
        .atMost(Duration.ofSeconds(20))
        .until(
            () ->
                readyCount("cue") == 2
                    && pool("cue").instances().stream().noneMatch(i -> i.pid() == victim));
  }

  private long readyCount(String id) {
    return pool(id).instances().stream()
        .filter(i -> i.state() == dev.locallambdas.function.InstanceState.READY)
        .count();
  }

  @Test
  void instanceIsRecycledAfterMaxRequestsPerInstance() throws Exception {
    start(TestManifests.cue("cue").maxRequestsPerInstance(2).build());
    long first = pidOf(http.get("/cue/hello"));
    assertThat(pidOf(http.get("/cue/hello"))).isEqualTo(first);
    assertThat(pidOf(http.get("/cue/hello"))).isNotEqualTo(first);
  }

  @Test
  void runDirectoryIsPrivate() throws Exception {
    start(TestManifests.cue("cue").build());
    assertThat(java.nio.file.Files.getPosixFilePermissions(gateway.supervisor().runDirectory()))
        .isEqualTo(java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
  }

  @Test
  void crashesAndRestartsLeakNoFileDescriptors() throws Exception {
    start(TestManifests.cue("cue").build());
    pidOf(http.get("/cue/hello"));
    long baseline = openFileDescriptors();
    for (int i = 0; i < 15; i++) {
      assertThat(http.get("/cue/crash").statusCode()).isEqualTo(502);
      assertThat(http.get("/cue/hello").statusCode()).isEqualTo(200);
    }
    // Allow a few descriptors of slack for JDK internals (selectors, class loading).
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(() -> assertThat(openFileDescriptors()).isLessThanOrEqualTo(baseline + 4));
  }

  private static long openFileDescriptors() throws IOException {
    try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
      return fds.count();
    }
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
