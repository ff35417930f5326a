package dev.locallambdas.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.locallambdas.function.FunctionPool;
import dev.locallambdas.function.InstanceState;
import dev.locallambdas.manifest.CacheSetting;
import dev.locallambdas.manifest.FunctionSpec;
import dev.locallambdas.manifest.StartPolicy;
import dev.locallambdas.server.Gateway;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Functions that fail in every way a child can: cut a response half-way, hang, die after reading a
 * request, stop accepting connections, crash now and then. Each test names what the client sees and
 * what the gateway does to the child.
 */
@ExtendWith(NoLeaks.class)
class FaultsTest {
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

  @AfterEach
  void stop() {
    if (gateway != null) {
      gateway.close();
    }
  }

  private FunctionPool pool(String id) {
    return gateway.supervisor().pool(id);
  }

  private long onlyPid(String id) {
    return pool(id).instances().getFirst().pid();
  }

  // ---- crash mid-body -----------------------------------------------------------------------

  /**
   * A pipe child that sent its head and part of a body, then exited: the client gets the head and a
   * chunked body without its last chunk, then the connection closes.
   */
  @Test
  void childDyingMidBodyCutsTheChunkedResponseBeforeItsLastChunk() throws Exception {
    start(TestManifests.raw("raw").build());
    assertThat(http.get("/raw/ok").statusCode()).isEqualTo(200);
    RawExchange cut = RawExchange.get(gateway.address(), "/raw/midbody");
    if (cut.status() == 502) {
      // The gateway noticed the exit (and closed the pipe) before it had read the head: nothing
      // was sent yet, so the client gets a clean 502 instead.
      assertThat(cut.headers()).containsEntry("content-type", "application/problem+json");
    } else {
      assertThat(cut.status()).isEqualTo(200);
      assertThat(cut.headers()).containsEntry("transfer-encoding", "chunked");
      assertThat(cut.cutShort()).as("the body must not look complete").isTrue();
    }
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(() -> assertThat(http.get("/raw/ok").statusCode()).isEqualTo(200));
  }

  /**
   * A Content-Length response of up to the front door's gathering limit is held until it is
   * complete, so a child dying half-way leaves the client with a closed connection and no response
   * at all (status 0 here); a longer one would show its head and a short body; when the gateway
   * notices the death before reading the head, a 502. Either way the client cannot take it for a
   * complete answer, and nothing is cached.
   */
  @Test
  void childDyingMidBodyCutsTheContentLengthResponseShortAndNothingIsCached() throws Exception {
    Path log = temp.resolve("requests.log");
    start(
        TestManifests.faultsHttp("f")
            .env("FAULT_LOG", log.toString())
            .cache(new CacheSetting(CacheSetting.Mode.ENABLED, Duration.ofMinutes(5), 1 << 20))
            .build());
    assertThat(http.get("/f/hello").statusCode()).isEqualTo(200);
    assertVisiblyFailed(RawExchange.get(gateway.address(), "/f/midbody"));
    await("the second request to reach a child (nothing was cached)")
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () -> {
              assertVisiblyFailed(RawExchange.get(gateway.address(), "/f/midbody"));
              assertThat(lines(log, "midbody")).hasSizeGreaterThanOrEqualTo(2);
            });
  }

  /**
   * Either a clean 502 (the gateway saw the child die before it had sent anything) or a response
   * the client can tell is incomplete; never something that looks like a whole answer.
   */
  private static void assertVisiblyFailed(RawExchange r) {
    if (r.status() == 502) {
      assertThat(r.headers()).containsEntry("content-type", "application/problem+json");
    } else {
      assertThat(r.status()).isIn(0, 200);
      assertThat(r.cutShort()).as("the client can tell: %s", r).isTrue();
    }
  }

  // ---- hang ---------------------------------------------------------------------------------

  @Test
  void hangingChildGets504ThenSigtermAndLeavesNoZombie() throws Exception {
    Path term = temp.resolve("sigterm");
    start(
        TestManifests.raw("raw")
            .env("RAW_ON_TERM", "record:" + term)
            .requestTimeout(Duration.ofMillis(500))
            .build());
    assertThat(http.get("/raw/ok").statusCode()).isEqualTo(200);
    long pid = onlyPid("raw");
    HttpResponse<String> hang = http.get("/raw/hang");
    assertThat(hang.statusCode()).isEqualTo(504);
    assertThat(hang.headers().firstValue("content-type")).hasValue("application/problem+json");
    await("the child to record its SIGTERM")
        .atMost(Duration.ofSeconds(10))
        .until(() -> Files.exists(term));
    assertThat(Files.readString(term)).isEqualTo(Long.toString(pid));
    awaitGoneAndReaped(pid);
    assertThat(http.get("/raw/ok").statusCode()).isEqualTo(200);
  }

  @Test
  void hangingChildThatIgnoresSigtermIsKilledAfterItsStopGrace() throws Exception {
    List<String> messages = new CopyOnWriteArrayList<>();
    Logger processLog = Logger.getLogger("dev.locallambdas.process");
    Handler capture =
        new Handler() {
          @Override
          public void publish(LogRecord r) {
            messages.add(r.getMessage());
          }

          @Override
          public void flush() {}

          @Override
          public void close() {}
        };
    processLog.addHandler(capture);
    try {
      start(
          TestManifests.raw("raw")
              .env("RAW_ON_TERM", "ignore")
              .requestTimeout(Duration.ofMillis(500))
              .stopGrace(Duration.ofMillis(300))
              .build());
      assertThat(http.get("/raw/ok").statusCode()).isEqualTo(200);
      long pid = onlyPid("raw");
      assertThat(http.get("/raw/hang").statusCode()).isEqualTo(504);
      awaitGoneAndReaped(pid);
      await()
          .atMost(Duration.ofSeconds(5))
          .until(() -> messages.stream().anyMatch(m -> m.contains("after SIGTERM; sent SIGKILL")));
    } finally {
      processLog.removeHandler(capture);
    }
  }

  /** The process is gone and was reaped: no /proc entry at all (a zombie keeps one, state Z). */
  private static void awaitGoneAndReaped(long pid) {
    await("process " + pid + " to be gone and reaped (last /proc state shown)")
        .atMost(Duration.ofSeconds(15))
        .until(() -> procState(pid), state -> state.equals("gone"));
  }

  /** Field 3 of /proc/PID/stat (R, S, D, Z for a zombie, ...), or "gone". */
  private static String procState(long pid) throws IOException {
    String s;
    try {
      s = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
    } catch (java.nio.file.NoSuchFileException e) {
      return "gone";
    } catch (IOException e) {
      return "unreadable"; // ESRCH while the process is being reaped: look again
    }
    int paren = s.lastIndexOf(')');
    return s.substring(paren + 2, paren + 3);
  }

  // ---- retry safety -------------------------------------------------------------------------

  @Test
  void postWhosePipeChildDiesAfterReadingItIsNotRetried() throws Exception {
    Path log = temp.resolve("requests.log");
    start(TestManifests.cue("cue").env("CUE_LOG", log.toString()).build());
    HttpResponse<byte[]> r = http.post("/cue/postcrash", new byte[64 * 1024]);
    assertThat(r.statusCode()).isEqualTo(502);
    assertThat(new String(r.body(), StandardCharsets.UTF_8)).contains("status 3");
    assertThat(http.get("/cue/hello").statusCode()).isEqualTo(200);
    assertThat(lines(log, "postcrash")).as("the side effect happened once").hasSize(1);
  }

  @Test
  void postWhoseHttpChildDiesAfterReadingItIsNotRetried() throws Exception {
    Path log = temp.resolve("requests.log");
    start(TestManifests.faultsHttp("f").env("FAULT_LOG", log.toString()).build());
    assertThat(http.get("/f/hello").statusCode()).as("a warm, reused connection").isEqualTo(200);
    HttpResponse<byte[]> r = http.post("/f/postcrash", new byte[64 * 1024]);
    assertThat(r.statusCode()).isEqualTo(502);
    assertThat(http.get("/f/hello").statusCode()).isEqualTo(200);
    assertThat(lines(log, "postcrash")).as("the side effect happened once").hasSize(1);
  }

  @Test
  void requestNeverDeliveredIsRetriedOnceOnAFreshInstance() throws Exception {
    Path log = temp.resolve("requests.log");
    start(TestManifests.faultsHttp("f").env("FAULT_LOG", log.toString()).build());
    HttpResponse<String> unlisten = http.get("/f/unlisten");
    assertThat(unlisten.statusCode()).isEqualTo(200);
    long first = onlyPid("f");
    await("the child to stop listening")
        .atMost(Duration.ofSeconds(10))
        .until(() -> lines(log, "unlistened").size() == 1);
    // A POST, which is never retried once delivered: here the connection is refused, so the
    // child never saw it, and a fresh instance gets it.
    HttpResponse<byte[]> r = http.post("/f/count", "once".getBytes(StandardCharsets.UTF_8));
    assertThat(r.statusCode()).as(new String(r.body(), StandardCharsets.UTF_8)).isEqualTo(200);
    List<String> counted = lines(log, "count");
    assertThat(counted).as("the side effect happened once").hasSize(1);
    assertThat(counted.getFirst()).doesNotStartWith(first + " ");
    assertThat(new String(r.body(), StandardCharsets.UTF_8)).doesNotContain(Long.toString(first));
  }

  // ---- back-off -----------------------------------------------------------------------------

  private void startEagerWithFakeClock() throws IOException {
    gateway =
        Gateway.start(
            TestManifests.manifest(
                TestManifests.cue("cue").startPolicy(StartPolicy.EAGER).minInstances(1).build()),
            new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
            b -> b.clock(fakeNanos::get).backgroundCleanup(false));
    http = new HttpTestClient(gateway.address());
  }

  private long awaitReadyInstanceOtherThan(long pid) {
    await()
        .atMost(Duration.ofSeconds(20))
        .until(
            () ->
                pool("cue").instances().stream()
                    .anyMatch(i -> i.state() == InstanceState.READY && i.pid() != pid));
    return pool("cue").instances().stream()
        .filter(i -> i.state() == InstanceState.READY)
        .findFirst()
        .orElseThrow()
        .pid();
  }

  private static void killAndAwait(long pid) {
    ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
    awaitGoneAndReaped(pid);
  }

  @Test
  void twoQuickCrashesOpenTheBackOff() throws Exception {
    startEagerWithFakeClock();
    long first = awaitReadyInstanceOtherThan(-1);
    killAndAwait(first);
    long second = awaitReadyInstanceOtherThan(first);
    killAndAwait(second);
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () -> {
              HttpResponse<String> r = http.get("/cue/hello");
              assertThat(r.statusCode()).isEqualTo(503);
              assertThat(r.body()).contains("crash-loop");
              assertThat(r.headers().firstValue("retry-after")).isPresent();
            });
  }

  @Test
  void crashAfterAHealthyPeriodStartsTheFailureCountAfresh() throws Exception {
    startEagerWithFakeClock();
    long first = awaitReadyInstanceOtherThan(-1);
    killAndAwait(first);
    long second = awaitReadyInstanceOtherThan(first);
    fakeNanos.addAndGet(Duration.ofMinutes(1).toNanos()); // the second instance stays up a minute
    killAndAwait(second);
    awaitReadyInstanceOtherThan(second);
    assertThat(http.get("/cue/hello").statusCode()).isEqualTo(200);
  }

  private static List<String> lines(Path log, String word) throws IOException {
    if (!Files.exists(log)) {
      return List.of();
    }
    return Files.readAllLines(log).stream().filter(l -> l.contains(" " + word)).toList();
  }
}
