package dev.locallambdas.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.locallambdas.server.Gateway;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Slowloris: 200 connections each trickle a request head, one byte every 300 ms, while normal
 * clients keep making requests. The normal requests must all succeed; each slow connection must be
 * answered 408 and closed once its header timeout (10 s from its first byte) runs out. The long
 * version with slowhttptest is bench/slowloris.sh. The numbers go to target/slowloris-summary.txt.
 */
@ExtendWith(NoLeaks.class)
class SlowClientsTest {
  private static final int SLOW_CONNECTIONS = Integer.getInteger("slowloris.connections", 200);
  private static final int BYTE_EVERY_MILLIS = 300;
  private static final int NORMAL_REQUESTS = 400;

  private Gateway gateway;

  @AfterEach
  void stop() {
    if (gateway != null) {
      gateway.close();
    }
  }

  @Test
  void normalRequestsAreServedWhileSlowlorisConnectionsTrickleTheirHeads() throws Exception {
    gateway =
        Gateway.start(
            TestManifests.manifest(TestManifests.cue("cue").concurrency(4).maxInstances(2).build()),
            new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    try (KeepAliveClient warm = new KeepAliveClient(gateway.address(), 30_000)) {
      assertThat(warm.get("/cue/hello").status()).isEqualTo(200);
    }

    AtomicInteger trickling = new AtomicInteger();
    Map<String, LongAdder> slowOutcomes = new ConcurrentHashMap<>();
    List<Thread> slow = new ArrayList<>();
    for (int i = 0; i < SLOW_CONNECTIONS; i++) {
      slow.add(
          Thread.ofVirtual()
              .name("slowloris-" + i)
              .start(() -> slowloris(trickling, slowOutcomes)));
    }
    await("every slow connection to be trickling")
        .atMost(Duration.ofSeconds(30))
        .until(() -> trickling.get() + count(slowOutcomes) >= SLOW_CONNECTIONS);

    List<String> normalFailures = new CopyOnWriteArrayList<>();
    LongAdder normalOk = new LongAdder();
    List<Thread> normal = new ArrayList<>();
    for (int w = 0; w < 4; w++) {
      normal.add(
          Thread.ofVirtual()
              .start(
                  () -> {
                    try (KeepAliveClient c = new KeepAliveClient(gateway.address(), 30_000)) {
                      for (int i = 0; i < NORMAL_REQUESTS / 4; i++) {
                        try {
                          int status = c.get("/cue/hello").status();
                          if (status == 200) {
                            normalOk.increment();
                          } else {
                            normalFailures.add("status " + status);
                          }
                        } catch (IOException e) {
                          normalFailures.add(e.toString());
                        }
                      }
                    }
                  }));
    }
    for (Thread t : normal) {
      t.join();
    }
    int stillTrickling = trickling.get();
    for (Thread t : slow) {
      t.join();
    }

    Map<String, Long> outcomes = new TreeMap<>();
    slowOutcomes.forEach((k, v) -> outcomes.put(k, v.sum()));
    String summary =
        String.format(
            "slowloris: %d slow connections (a header byte every %d ms), %d still trickling when the"
                + " %d normal requests were done: %d normal requests succeeded, %d failed; slow"
                + " connections ended with %s%n",
            SLOW_CONNECTIONS,
            BYTE_EVERY_MILLIS,
            stillTrickling,
            NORMAL_REQUESTS,
            normalOk.sum(),
            normalFailures.size(),
            outcomes);
    System.out.print(summary);
    Files.writeString(Path.of("target", "slowloris-summary.txt"), summary);
    assertThat(normalFailures).as(summary).isEmpty();
    assertThat(normalOk.sum()).as(summary).isEqualTo(NORMAL_REQUESTS);
    assertThat(outcomes).as(summary).containsOnlyKeys("408");
  }

  private static long count(Map<String, LongAdder> m) {
    return m.values().stream().mapToLong(LongAdder::sum).sum();
  }

  /** One slow client: a partial head, then one more header byte every 300 ms until answered. */
  private void slowloris(AtomicInteger trickling, Map<String, LongAdder> outcomes) {
    String outcome;
    try (Socket s = new Socket(gateway.address().getAddress(), gateway.address().getPort())) {
      s.setSoTimeout(60_000);
      OutputStream out = s.getOutputStream();
      InputStream in = s.getInputStream();
      out.write(
          "GET /cue/hello HTTP/1.1\r\nHost: slow\r\nX-Slow: ".getBytes(StandardCharsets.US_ASCII));
      trickling.incrementAndGet();
      try {
        while (in.available() == 0) {
          out.write('a');
          Thread.sleep(BYTE_EVERY_MILLIS);
        }
      } catch (IOException e) {
        // the gateway closed its side: read what it answered
      } finally {
        trickling.decrementAndGet();
      }
      byte[] answer = in.readAllBytes();
      String text = new String(answer, StandardCharsets.ISO_8859_1);
      outcome = text.startsWith("HTTP/1.1 ") ? text.substring(9, 12) : "closed without a response";
    } catch (IOException e) {
      outcome = "error " + e.getClass().getSimpleName();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      outcome = "interrupted";
    }
    outcomes.computeIfAbsent(outcome, k -> new LongAdder()).increment();
  }
}
