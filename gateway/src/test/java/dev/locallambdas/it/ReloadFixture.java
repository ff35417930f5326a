package dev.locallambdas.it;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Shared by the reload and watch-mode tests: a Python SDK function whose answer names its code
 * version and pid, manifests written the way editors save (a temporary file renamed over the old),
 * a load that keeps requests flowing and counts every answer that is not 200.
 */
final class ReloadFixture {
  private static final Pattern VERSION = Pattern.compile("\"version\": \"([^\"]*)\"");
  private static final Pattern PID = Pattern.compile("\"pid\": (\\d+)");

  private ReloadFixture() {}

  /** Writes {@code dir/app.py}: answers {"version": VERSION, "pid": ..., "env": $VERSION}. */
  static void writeApp(Path dir, String version) throws IOException {
    Files.createDirectories(dir);
    save(
        dir.resolve("app.py"),
        """
        import os, sys, time
        sys.path.insert(0, os.environ["SDK_PYTHON"])
        import local_lambdas
        VERSION = "%s"
        def handler(request):
            q = request.query or ""
            if q.startswith("sleep="):
                time.sleep(int(q[6:]) / 1000)
            return {"version": VERSION, "pid": os.getpid(), "env": os.environ.get("VERSION", "")}
        if __name__ == "__main__":
            local_lambdas.serve(handler)
        """
            .formatted(version));
  }

  /** Writes {@code dir/app.py} that fails at import (a syntax error, as a half-done edit). */
  static void writeBrokenApp(Path dir) throws IOException {
    save(dir.resolve("app.py"), "import os\ndef handler(request:\n    return 1\n");
  }

  /** One function element running {@code dir/app.py}, routed at /{id}/*. */
  static String function(String id, Path dir, String extra) {
    return """
          <function>
            <id>%s</id>
            <executable>python3</executable>
            <arg>app.py</arg>
            <working_dir>%s</working_dir>
            <route>/%s/*</route>
            <env name="SDK_PYTHON">%s</env>
            %s
          </function>
        """
        .formatted(id, dir, id, TestManifests.repo().resolve("sdk/python"), extra);
  }

  static void writeManifest(Path file, String... functions) throws IOException {
    save(file, "<manifest version=\"1\">\n" + String.join("", functions) + "</manifest>\n");
  }

  /** As an editor saves: a temporary file beside the target, renamed over it. */
  static void save(Path file, String text) throws IOException {
    Path tmp = file.resolveSibling("." + file.getFileName() + ".tmp");
    Files.writeString(tmp, text);
    Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
  }

  static String version(HttpResponse<String> r) {
    Matcher m = VERSION.matcher(r.body());
    return m.find() ? m.group(1) : null;
  }

  static long pid(HttpResponse<String> r) {
    Matcher m = PID.matcher(r.body());
    return m.find() ? Long.parseLong(m.group(1)) : -1;
  }

  static HttpResponse<String> post(InetSocketAddress a, String path)
      throws IOException, InterruptedException {
    try (HttpClient c = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build()) {
      return c.send(
          HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + a.getPort() + path))
              .POST(HttpRequest.BodyPublishers.noBody())
              .timeout(Duration.ofSeconds(60))
              .build(),
          HttpResponse.BodyHandlers.ofString());
    }
  }

  /** Waits until GET {@code path} answers 200 with code version {@code version}. */
  static HttpResponse<String> awaitVersion(HttpTestClient http, String path, String version) {
    AtomicReferenceHolder last = new AtomicReferenceHolder();
    await(path + " to answer with version " + version)
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(20))
        .until(
            () -> {
              HttpResponse<String> r = http.get(path);
              last.value = r;
              return r.statusCode() == 200 && version.equals(version(r));
            });
    return last.value;
  }

  private static final class AtomicReferenceHolder {
    volatile HttpResponse<String> value;
  }

  /**
   * Clients that keep requesting {@code paths} until stopped, counting answers that are not 200.
   */
  static final class Load implements AutoCloseable {
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final AtomicInteger answered = new AtomicInteger();
    private final ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
    private final List<Thread> threads;

    Load(HttpTestClient http, int clients, String... paths) {
      threads =
          java.util.stream.IntStream.range(0, clients)
              .mapToObj(
                  i ->
                      Thread.ofVirtual()
                          .start(
                              () -> {
                                int n = i;
                                while (running.get()) {
                                  String path = paths[n++ % paths.length];
                                  try {
                                    HttpResponse<String> r = http.get(path);
                                    if (r.statusCode() != 200) {
                                      failures.add(path + " -> " + r.statusCode() + " " + r.body());
                                    }
                                    answered.incrementAndGet();
                                  } catch (IOException e) {
                                    failures.add(path + " -> " + e);
                                  } catch (InterruptedException e) {
                                    return;
                                  }
                                }
                              }))
              .toList();
    }

    int answered() {
      return answered.get();
    }

    List<String> failures() {
      return List.copyOf(failures);
    }

    @Override
    public void close() {
      running.set(false);
      try {
        for (Thread t : threads) {
          t.join(Duration.ofSeconds(60));
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt(); // the test is being stopped: let it stop
      }
    }
  }
}
