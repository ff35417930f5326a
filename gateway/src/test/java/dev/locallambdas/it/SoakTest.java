package dev.locallambdas.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.locallambdas.server.Gateway;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The short soak: after a warm-up (pools and keep-alive connections at their working size), 10 s of
 * steady load at 16 connections over a pipe and an http function; then the JVM's threads and open
 * file descriptors must come back to where they were before the load (within a small slack for JDK
 * internals), so nothing grows per request. The gateway runs in the test JVM, so both ends of each
 * loopback connection count, and both are closed at the end. bench/soak.sh is the long version
 * against the gateway process. The numbers go to target/soak-summary.txt.
 */
@ExtendWith(NoLeaks.class)
class SoakTest {
  private static final long SECONDS = Long.getLong("soak.seconds", 10);
  private static final int CONNECTIONS = 16;
  private static final List<String> PATHS = List.of("/cue/hello", "/h/hello");

  private Gateway gateway;

  @AfterEach
  void stop() {
    if (gateway != null) {
      gateway.close();
    }
  }

  @Test
  void threadsAndFileDescriptorsReturnToTheirBaselineAfterSteadyLoad() throws Exception {
    gateway =
        Gateway.start(
            TestManifests.manifest(
                TestManifests.cue("cue").maxInstances(2).build(),
                TestManifests.faultsHttp("h").concurrency(16).build()),
            new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    List<String> failures = new CopyOnWriteArrayList<>();
    load(TimeUnit.SECONDS.toNanos(3), new LongAdder(), failures);
    long fds = fileDescriptors();
    long threads = threads();
    LongAdder requests = new LongAdder();
    load(TimeUnit.SECONDS.toNanos(SECONDS), requests, failures);
    long fdsAfterLoad = fileDescriptors();
    long threadsAfterLoad = threads();
    String baseline = "baseline " + fds + " fds, " + threads + " threads";
    await(baseline)
        .atMost(Duration.ofSeconds(20))
        .pollInterval(Duration.ofMillis(200))
        .until(() -> fileDescriptors() <= fds + 4 && threads() <= threads + 4);
    String summary =
        String.format(
            "soak (short): %d s at %d connections over a pipe and an http function: %d requests,"
                + " %d failed; fds %d before, %d right after the load, %d settled; threads %d"
                + " before, %d right after the load, %d settled%n",
            SECONDS,
            CONNECTIONS,
            requests.sum(),
            failures.size(),
            fds,
            fdsAfterLoad,
            fileDescriptors(),
            threads,
            threadsAfterLoad,
            threads());
    System.out.print(summary);
    Files.writeString(Path.of("target", "soak-summary.txt"), summary);
    assertThat(failures).as(summary).isEmpty();
    assertThat(requests.sum()).as(summary).isPositive();
  }

  private void load(long nanos, LongAdder requests, List<String> failures)
      throws InterruptedException {
    long deadline = System.nanoTime() + nanos;
    List<Thread> workers = new ArrayList<>();
    for (int w = 0; w < CONNECTIONS; w++) {
      int worker = w;
      workers.add(
          Thread.ofVirtual()
              .start(
                  () -> {
                    try (KeepAliveClient c = new KeepAliveClient(gateway.address(), 30_000)) {
                      for (int i = worker; System.nanoTime() < deadline; i++) {
                        String path = PATHS.get(i % PATHS.size());
                        requests.increment();
                        try {
                          int status = c.get(path).status();
                          if (status != 200) {
                            failures.add(path + ": " + status);
                          }
                        } catch (IOException e) {
                          failures.add(path + ": " + e);
                        }
                      }
                    }
                  }));
    }
    for (Thread t : workers) {
      t.join();
    }
  }

  private static long fileDescriptors() throws IOException {
    try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
      return fds.count();
    }
  }

  private static long threads() throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
      if (line.startsWith("Threads:")) {
        return Long.parseLong(line.substring(8).strip());
      }
    }
    throw new IllegalStateException("no Threads: line in /proc/self/status");
  }
}
