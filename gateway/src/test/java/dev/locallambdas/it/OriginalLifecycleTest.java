package dev.locallambdas.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.locallambdas.function.FunctionPool;
import dev.locallambdas.function.InstanceState;
import dev.locallambdas.function.InstanceView;
import dev.locallambdas.manifest.Manifest;
import dev.locallambdas.manifest.ManifestReader;
import dev.locallambdas.server.Gateway;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * A manifest in the original local_lambdas format keeps the original's lifecycle: every process
 * starts with the gateway and none is stopped for being idle, so a child that keeps state in memory
 * keeps it; a crashed one is started again at once, without waiting for a request.
 */
@ExtendWith(NoLeaks.class)
class OriginalLifecycleTest {
  @TempDir Path temp;
  private Gateway gateway;
  private final AtomicLong fakeNanos = new AtomicLong(1_000_000_000L);

  @AfterEach
  void stop() {
    if (gateway != null) {
      gateway.close();
    }
  }

  private void serveOriginal(String extraElements) throws Exception {
    Path manifest =
        Files.writeString(
            temp.resolve("manifest.xml"),
            """
            <manifest>
              <process>
                <id>stateful</id>
                <executable>python3</executable>
                <arg>%s</arg>
                <route>/stateful/*</route>
                <pipe_name>stateful</pipe_name>
                %s
              </process>
            </manifest>
            """
                .formatted(TestManifests.child("legacy_odd.py"), extraElements));
    Manifest m = ManifestReader.read(manifest);
    assertThat(m.originalFormat()).isTrue();
    gateway =
        Gateway.start(
            m,
            new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
            b -> b.clock(fakeNanos::get).backgroundCleanup(false));
  }

  private FunctionPool pool() {
    return gateway.supervisor().pool("stateful");
  }

  private List<InstanceView> ready() {
    return pool().instances().stream().filter(i -> i.state() == InstanceState.READY).toList();
  }

  @Test
  void startsAtLaunchAndIsNeverStoppedForIdlenessAndRestartsAtOnceAfterACrash() throws Exception {
    serveOriginal("");

    // Started and ready before any request.
    await().atMost(Duration.ofSeconds(20)).until(() -> ready().size() == 1);
    long pid = ready().getFirst().pid();

    fakeNanos.addAndGet(Duration.ofHours(5).toNanos());
    gateway.supervisor().cleanup(fakeNanos.get());
    assertThat(ready()).singleElement().extracting(InstanceView::pid).isEqualTo(pid);

    ProcessHandle.of(pid).orElseThrow().destroyForcibly();
    await()
        .atMost(Duration.ofSeconds(20))
        .until(() -> ready().size() == 1 && ready().getFirst().pid() != pid);

    HttpTestClient http = new HttpTestClient(gateway.address());
    assertThat(http.get("/stateful/pid").statusCode()).isEqualTo(200);
  }

  @Test
  void theManifestMayStillAskForTheNewLifecycle() throws Exception {
    serveOriginal("<start>lazy</start><idle_timeout>5m</idle_timeout>");

    assertThat(pool().instances()).isEmpty();
    HttpTestClient http = new HttpTestClient(gateway.address());
    assertThat(http.get("/stateful/pid").statusCode()).isEqualTo(200);
    assertThat(ready()).hasSize(1);

    fakeNanos.addAndGet(Duration.ofMinutes(6).toNanos());
    gateway.supervisor().cleanup(fakeNanos.get());
    await().atMost(Duration.ofSeconds(20)).until(() -> pool().instances().isEmpty());
  }
}
