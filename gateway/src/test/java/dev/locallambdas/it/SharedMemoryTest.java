package dev.locallambdas.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.locallambdas.function.InstanceState;
import dev.locallambdas.function.InstanceView;
import dev.locallambdas.manifest.FunctionSpec;
import dev.locallambdas.manifest.SharedMemory;
import dev.locallambdas.server.Gateway;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Shared-memory bodies end to end (docs/protocol.md section 8, ADR 0011): real Python and Java SDK
 * children, every byte compared, and children SIGKILLed while 256 KiB bodies are in their slots.
 * Afterwards the gateway holds exactly one segment mapping per live instance, and none once it is
 * closed.
 */
@ExtendWith(NoLeaks.class)
class SharedMemoryTest {
  private static final int[] SIZES = {1, 1000, 64 * 1024, 256 * 1024, 1024 * 1024 + 17, 4 << 20};

  private Gateway gateway;
  private final HttpClient http =
      HttpClient.newBuilder()
          .version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(10))
          .build();

  @AfterEach
  void stop() throws Exception {
    if (gateway != null) {
      gateway.close();
      await("no segment mapped once the gateway is closed")
          .atMost(Duration.ofSeconds(10))
          .until(() -> segmentMappings().isEmpty());
    }
    http.close();
  }

  static FunctionSpec.Builder pythonEcho(String id) {
    return FunctionSpec.builder(id)
        .executable("python3")
        .arg(TestManifests.child("shm_echo.py").toString())
        .route("/" + id + "/*")
        .env("SDK_PYTHON", TestManifests.repo().resolve("sdk/python").toString())
        .env("PYTHONUNBUFFERED", "1")
        .workingDir(TestManifests.repo());
  }

  /** The gateway's mappings of segments (this JVM is the gateway), one line each. */
  static List<String> segmentMappings() throws IOException {
    return Files.readAllLines(Path.of("/proc/self/maps")).stream()
        .filter(l -> l.contains("memfd:local-lambdas"))
        .toList();
  }

  /** Whether a child process has the segment mapped. */
  static boolean childMapsSegment(long pid) throws IOException {
    return Files.readAllLines(Path.of("/proc/" + pid + "/maps")).stream()
        .anyMatch(l -> l.contains("memfd:local-lambdas"));
  }

  private HttpResponse<byte[]> post(String path, byte[] body) throws Exception {
    HttpRequest request =
        HttpRequest.newBuilder(URI.create("http://" + address() + path))
            .timeout(Duration.ofSeconds(60))
            .POST(HttpRequest.BodyPublishers.ofByteArray(body))
            .build();
    return http.send(request, HttpResponse.BodyHandlers.ofByteArray());
  }

  private String getText(String path) throws Exception {
    HttpRequest request =
        HttpRequest.newBuilder(URI.create("http://" + address() + path))
            .timeout(Duration.ofSeconds(60))
            .build();
    return http.send(request, HttpResponse.BodyHandlers.ofString()).body();
  }

  private String address() {
    InetSocketAddress a = gateway.address();
    return a.getHostString() + ":" + a.getPort();
  }

  private static byte[] random(int n) {
    byte[] b = new byte[n];
    new Random(n).nextBytes(b);
    return b;
  }

  private List<InstanceView> instances(String id) {
    return gateway.supervisor().pool(id).instances();
  }

  @Test
  void pythonBodiesOfEverySizeComeBackByteExactAndLargeOnesUseSlots() throws Exception {
    gateway =
        Gateway.start(
            TestManifests.manifest(pythonEcho("py").build()),
            new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    for (int size : SIZES) {
      byte[] body = random(size);
      for (String path : List.of("/py/whole", "/py/stream")) {
        HttpResponse<byte[]> r = post(path, body);
        assertThat(r.statusCode()).as(path + " " + size).isEqualTo(200);
        assertThat(Arrays.equals(r.body(), body)).as(path + " " + size + " byte exact").isTrue();
      }
    }
    String stats = getText("/py/stats");
    assertThat(stats).contains("\"mapped\": true");
    // 64 KiB and up went through slots both ways (a 4 MiB body in four pieces each way); a
    // request that came before the child's SHM_ATTACH went in frames, so no exact count.
    int in = Integer.parseInt(stats.replaceAll(".*\"in\": (\\d+).*", "$1"));
    int out = Integer.parseInt(stats.replaceAll(".*\"out\": (\\d+).*", "$1"));
    assertThat(in).isGreaterThanOrEqualTo(1 + 1 + 2 + 4);
    assertThat(out).isGreaterThanOrEqualTo(1 + 1 + 1 + 4);
    long pid = instances("py").get(0).pid();
    assertThat(childMapsSegment(pid)).isTrue();
    assertThat(segmentMappings()).hasSize(1);
  }

  @Test
  void javaBodiesOfEverySizeComeBackByteExactThroughTheSegment() throws Exception {
    gateway =
        Gateway.start(
            TestManifests.manifest(
                TestManifests.javaExample("java", "example.Echo", "/java/*").build()),
            new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    for (int size : SIZES) {
      byte[] body = random(size);
      HttpResponse<byte[]> r = post("/java/echo", body);
      assertThat(r.statusCode()).as("size " + size).isEqualTo(200);
      assertThat(Arrays.equals(r.body(), body)).as("size " + size + " byte exact").isTrue();
    }
    assertThat(childMapsSegment(instances("java").get(0).pid())).isTrue();
  }

  @Test
  void nodeBodiesOfEverySizeComeBackByteExactThroughTheSegmentFile() throws Exception {
    gateway =
        Gateway.start(
            TestManifests.manifest(TestManifests.nodeExample("node", "echo.js", "/node/*").build()),
            new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    for (int size : SIZES) {
      byte[] body = random(size);
      HttpResponse<byte[]> r = post("/node/echo", body);
      assertThat(r.statusCode()).as("size " + size).isEqualTo(200);
      assertThat(Arrays.equals(r.body(), body)).as("size " + size + " byte exact").isTrue();
    }
    // Node cannot map: it holds the segment open and uses positional reads and writes.
    long pid = instances("node").get(0).pid();
    try (var fds = Files.list(Path.of("/proc/" + pid + "/fd"))) {
      assertThat(
              fds.anyMatch(
                  fd -> {
                    try {
                      return Files.readSymbolicLink(fd).toString().contains("memfd:local-lambdas");
                    } catch (IOException e) {
                      return false;
                    }
                  }))
          .isTrue();
    }
  }

  @Test
  void switchedOffTheChildMapsNothingAndBodiesGoInFrames() throws Exception {
    gateway =
        Gateway.start(
            TestManifests.manifest(pythonEcho("off").sharedMemory(SharedMemory.OFF).build()),
            new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    byte[] body = random(300_000);
    assertThat(post("/off/whole", body).body()).isEqualTo(body);
    assertThat(getText("/off/stats")).contains("\"mapped\": false");
    assertThat(childMapsSegment(instances("off").get(0).pid())).isFalse();
    assertThat(segmentMappings()).isEmpty();
  }

  @Test
  void switchedOnEvenSmallBodiesUseSlots() throws Exception {
    gateway =
        Gateway.start(
            TestManifests.manifest(pythonEcho("on").sharedMemory(SharedMemory.ON).build()),
            new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    assertThat(getText("/on/stats")).contains("\"mapped\": true"); // the SHM_ATTACH is in
    byte[] body = random(100);
    assertThat(post("/on/whole", body).body()).isEqualTo(body);
    // The first stats answer went through a slot too (on: every body).
    assertThat(getText("/on/stats")).contains("\"in\": 1").contains("\"out\": 2");
  }

  /**
   * Seed 003's shape under fire: 16 clients post 256 KiB bodies while a child is SIGKILLed every
   * 700 ms. Every request gets an answer, 200 with its own bytes or a 502/503 problem; no body is
   * ever another's or cut; afterwards each live instance holds exactly one segment.
   */
  @Test
  void childrenKilledMidTransferLoseNoRequestCorruptNoBodyAndLeakNoSegment() throws Exception {
    gateway =
        Gateway.start(
            TestManifests.manifest(pythonEcho("chaos").maxInstances(3).build()),
            new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    assertThat(getText("/chaos/stats")).contains("\"mapped\": true");
    Map<Integer, LongAdder> statuses = new ConcurrentHashMap<>();
    List<String> failures = new CopyOnWriteArrayList<>();
    LongAdder kills = new LongAdder();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(8);
    Thread killer =
        Thread.ofVirtual()
            .start(
                () -> {
                  while (System.nanoTime() < deadline) {
                    try {
                      Thread.sleep(700); // the chaos cadence, not a wait for a condition
                    } catch (InterruptedException e) {
                      return;
                    }
                    List<Long> ready = new ArrayList<>();
                    for (InstanceView i : instances("chaos")) {
                      if (i.state() == InstanceState.READY && i.pid() > 0) {
                        ready.add(i.pid());
                      }
                    }
                    if (!ready.isEmpty()) {
                      long victim = ready.get(ThreadLocalRandom.current().nextInt(ready.size()));
                      ProcessHandle.of(victim).ifPresent(ProcessHandle::destroyForcibly);
                      kills.increment();
                    }
                  }
                });
    List<Thread> clients = new ArrayList<>();
    for (int c = 0; c < 16; c++) {
      int client = c;
      clients.add(
          Thread.ofVirtual()
              .start(
                  () -> {
                    for (int i = 0; System.nanoTime() < deadline; i++) {
                      byte[] body = new byte[256 * 1024];
                      new Random(client * 100_000L + i).nextBytes(body);
                      String path = i % 2 == 0 ? "/chaos/whole" : "/chaos/stream";
                      try {
                        HttpResponse<byte[]> r = post(path, body);
                        statuses.computeIfAbsent(r.statusCode(), k -> new LongAdder()).increment();
                        if (r.statusCode() == 200 && !Arrays.equals(r.body(), body)) {
                          failures.add(path + ": 200 with a body that is not the request's");
                        } else if (r.statusCode() != 200
                            && !new String(r.body(), java.nio.charset.StandardCharsets.UTF_8)
                                .contains("\"status\":" + r.statusCode())) {
                          failures.add(path + ": " + r.statusCode() + " without a problem body");
                        }
                      } catch (IOException e) {
                        if (path.endsWith("/stream")) {
                          // A streamed 200 cut off after its head (the child died mid-response)
                          // is a visible truncation, which is how HTTP says so.
                          statuses.computeIfAbsent(-1, k -> new LongAdder()).increment();
                        } else { // a whole body is gathered: its failure is a clean 502
                          failures.add(path + ": connection failed: " + e);
                        }
                      } catch (Exception e) {
                        failures.add(path + ": no answer: " + e);
                      }
                    }
                  }));
    }
    for (Thread t : clients) {
      t.join();
    }
    killer.join();
    Map<Integer, Long> counts = new TreeMap<>();
    statuses.forEach((k, v) -> counts.put(k, v.sum()));
    String summary = "statuses " + counts + ", kills " + kills.sum() + ", failures " + failures;
    System.out.println("shared-memory chaos: " + summary);
    assertThat(failures).as(summary).isEmpty();
    assertThat(counts.keySet()).as(summary).isSubsetOf(-1, 200, 502, 503);
    assertThat(counts.getOrDefault(200, 0L)).as(summary).isPositive();
    assertThat(kills.sum()).as(summary).isPositive();
    // Healthy again, and exactly one segment per live instance.
    await("a healthy instance")
        .atMost(Duration.ofSeconds(30))
        .ignoreExceptions()
        .until(() -> getText("/chaos/stats").contains("\"mapped\": true"));
    await("one segment per live instance")
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                segmentMappings().size()
                    == instances("chaos").stream()
                        .filter(i -> i.state() != InstanceState.STOPPED)
                        .count());
  }
}
