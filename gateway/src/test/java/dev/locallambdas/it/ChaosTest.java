package dev.locallambdas.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.locallambdas.function.FunctionPool;
import dev.locallambdas.function.InstanceState;
import dev.locallambdas.function.InstanceView;
import dev.locallambdas.server.Gateway;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListSet;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Load at 32 keep-alive connections over three functions (two pipe, one http) while a child is
 * killed with SIGKILL at a fixed interval. Every request must get an answer: 200, or 502/503 with a
 * problem+json body; no request may be left without one (each has a client-side timeout, so a
 * stalled gateway fails the test rather than hanging it); afterwards every function answers 200
 * again. CI runs 10 s with a kill every second; bench/chaos.sh runs the long version through the
 * system properties chaos.seconds, chaos.killEveryMillis and chaos.connections. The numbers are
 * printed and written to target/chaos-summary.txt.
 */
@ExtendWith(NoLeaks.class)
class ChaosTest {
  private static final long SECONDS = Long.getLong("chaos.seconds", 10);
  private static final long KILL_EVERY_MILLIS = Long.getLong("chaos.killEveryMillis", 1000);
  private static final int CONNECTIONS = Integer.getInteger("chaos.connections", 32);

  /** Far above the gateway's own queue and request timeouts (30 s): only a stall reaches it. */
  private static final int CLIENT_TIMEOUT_MILLIS = 90_000;

  private static final List<String> FUNCTIONS = List.of("a", "b", "h");

  private Gateway gateway;

  @AfterEach
  void stop() {
    if (gateway != null) {
      gateway.close();
    }
  }

  @Test
  void everyRequestIsAnsweredWhileChildrenAreKilled() throws Exception {
    gateway =
        Gateway.start(
            TestManifests.manifest(
                TestManifests.cue("a").maxInstances(3).build(),
                TestManifests.cue("b").maxInstances(3).build(),
                TestManifests.faultsHttp("h").maxInstances(2).concurrency(8).build()),
            new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    for (String f : FUNCTIONS) {
      awaitHealthy(f);
    }

    Map<Integer, LongAdder> statuses = new ConcurrentHashMap<>();
    List<String> failures = new CopyOnWriteArrayList<>();
    LongAdder requests = new LongAdder();
    LongAdder kills = new LongAdder();
    Set<Long> pids = new ConcurrentSkipListSet<>();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(SECONDS);

    try (ScheduledExecutorService chaos =
        Executors.newScheduledThreadPool(2, Thread.ofVirtual().factory())) {
      chaos.scheduleAtFixedRate(() -> pids.addAll(livePids()), 0, 50, TimeUnit.MILLISECONDS);
      chaos.scheduleAtFixedRate(
          () -> {
            List<Long> ready = readyPids();
            if (!ready.isEmpty() && System.nanoTime() < deadline) {
              long victim = ready.get(ThreadLocalRandom.current().nextInt(ready.size()));
              ProcessHandle.of(victim).ifPresent(ProcessHandle::destroyForcibly);
              kills.increment();
            }
          },
          KILL_EVERY_MILLIS,
          KILL_EVERY_MILLIS,
          TimeUnit.MILLISECONDS);

      List<Thread> workers = new ArrayList<>();
      for (int w = 0; w < CONNECTIONS; w++) {
        int worker = w;
        workers.add(
            Thread.ofVirtual()
                .name("load-" + w)
                .start(() -> load(worker, deadline, statuses, failures, requests)));
      }
      for (Thread t : workers) {
        t.join();
      }
      chaos.shutdownNow();
    }
    for (String f : FUNCTIONS) {
      awaitHealthy(f);
    }
    pids.addAll(livePids());

    Map<Integer, Long> counts = new TreeMap<>();
    statuses.forEach((k, v) -> counts.put(k, v.sum()));
    String summary =
        String.format(
            "chaos: %d s, %d connections, SIGKILL every %d ms: %d requests, statuses %s, %d kills,"
                + " %d child processes in all (%d started after the first per function: restarts"
                + " and scale-ups), %d without an answer%n",
            SECONDS,
            CONNECTIONS,
            KILL_EVERY_MILLIS,
            requests.sum(),
            counts,
            kills.sum(),
            pids.size(),
            pids.size() - FUNCTIONS.size(),
            failures.size());
    System.out.print(summary);
    Files.writeString(Path.of("target", "chaos-summary.txt"), summary);

    assertThat(failures).as(summary).isEmpty();
    assertThat(counts.keySet()).as(summary).isSubsetOf(200, 502, 503);
    assertThat(counts.getOrDefault(200, 0L)).as(summary).isPositive();
    assertThat(kills.sum()).as(summary).isPositive();
  }

  private void load(
      int worker,
      long deadline,
      Map<Integer, LongAdder> statuses,
      List<String> failures,
      LongAdder requests) {
    try (KeepAliveClient client = new KeepAliveClient(gateway.address(), CLIENT_TIMEOUT_MILLIS)) {
      for (int i = worker; System.nanoTime() < deadline; i++) {
        String path = "/" + FUNCTIONS.get(i % FUNCTIONS.size()) + "/hello";
        requests.increment();
        try {
          KeepAliveClient.Answer a = client.get(path);
          statuses.computeIfAbsent(a.status(), k -> new LongAdder()).increment();
          if (a.status() != 200
              && !(a.contentType() != null
                  && a.contentType().startsWith("application/problem+json")
                  && a.body().contains("\"status\":" + a.status()))) {
            failures.add(path + ": " + a.status() + " without a problem body: " + a.body());
          }
        } catch (IOException e) {
          failures.add(path + ": no answer: " + e);
        }
      }
    }
  }

  private void awaitHealthy(String function) {
    await(function + " to answer 200")
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(100))
        .ignoreExceptions()
        .until(
            () -> {
              try (KeepAliveClient c = new KeepAliveClient(gateway.address(), 30_000)) {
                return c.get("/" + function + "/hello").status() == 200;
              }
            });
  }

  private List<Long> readyPids() {
    List<Long> out = new ArrayList<>();
    for (String f : FUNCTIONS) {
      for (InstanceView i : pool(f).instances()) {
        if (i.state() == InstanceState.READY && i.pid() > 0) {
          out.add(i.pid());
        }
      }
    }
    return out;
  }

  private List<Long> livePids() {
    List<Long> out = new ArrayList<>();
    for (String f : FUNCTIONS) {
      for (InstanceView i : pool(f).instances()) {
        if (i.pid() > 0) {
          out.add(i.pid());
        }
      }
    }
    return out;
  }

  private FunctionPool pool(String id) {
    return gateway.supervisor().pool(id);
  }
}
