package dev.locallambdas.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.locallambdas.manifest.Manifest;
import dev.locallambdas.manifest.ManifestReader;
import dev.locallambdas.server.Gateway;
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
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** The response cache through the real front door, with a child that counts its invocations. */
@ExtendWith(NoLeaks.class)
class CacheIntegrationTest {
  @TempDir Path temp;
  private final AtomicLong nanos = new AtomicLong(1_000_000_000L);
  private final HttpClient client =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  private Gateway gateway;
  private String base;

  @AfterEach
  void stop() {
    if (gateway != null) {
      gateway.close();
    }
  }

  private void start(Manifest manifest) throws Exception {
    gateway =
        Gateway.builder(manifest)
            .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
            .environment(Map.of("ENABLE_CACHE", "true"))
            .cacheTicker(nanos::get)
            .start();
    base = "http://127.0.0.1:" + gateway.address().getPort();
  }

  private void startCue() throws Exception {
    start(TestManifests.manifest(TestManifests.cue("cue").build()));
  }

  private HttpResponse<String> get(String path, String... headers) throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(30));
    for (int i = 0; i < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static int count(HttpResponse<String> r) {
    String b = r.body();
    int i = b.indexOf("\"count\": ") + 9;
    int j = i;
    while (Character.isDigit(b.charAt(j))) {
      j++;
    }
    return Integer.parseInt(b.substring(i, j));
  }

  private static String xCache(HttpResponse<String> r) {
    return r.headers().firstValue("x-cache").orElse("none");
  }

  @Test
  void repeatedGetReachesTheChildOnce() throws Exception {
    startCue();
    HttpResponse<String> first = get("/cue/hello");
    HttpResponse<String> second = get("/cue/hello");
    assertThat(xCache(first)).isEqualTo("MISS");
    assertThat(xCache(second)).isEqualTo("HIT");
    assertThat(count(second)).isEqualTo(count(first)).isEqualTo(1);
    assertThat(second.headers().firstValue("age")).hasValue("0");
    assertThat(second.headers().firstValue("content-type")).hasValue("application/json");
    nanos.addAndGet(Duration.ofSeconds(7).toNanos());
    assertThat(get("/cue/hello").headers().firstValue("age")).hasValue("7");
  }

  @Test
  void postAlwaysReachesTheChild() throws Exception {
    startCue();
    get("/cue/hello");
    HttpResponse<String> post =
        client.send(
            HttpRequest.newBuilder(URI.create(base + "/cue/hello"))
                .POST(HttpRequest.BodyPublishers.ofString("x"))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(count(post)).isEqualTo(2);
    assertThat(count(get("/cue/hello?again"))).isEqualTo(3);
  }

  @Test
  void aWriteWithABodyInvalidatesTheStoredGetAndSaysBypass() throws Exception {
    startCue();
    assertThat(xCache(get("/cue/items"))).isEqualTo("MISS");
    assertThat(xCache(get("/cue/items"))).isEqualTo("HIT");
    for (String method : new String[] {"POST", "PUT", "PATCH", "DELETE"}) {
      HttpResponse<String> write =
          client.send(
              HttpRequest.newBuilder(URI.create(base + "/cue/items"))
                  .method(method, HttpRequest.BodyPublishers.ofString("{\"name\":\"new\"}"))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(write.statusCode()).isEqualTo(200);
      assertThat(xCache(write)).as(method).isEqualTo("BYPASS");
      HttpResponse<String> after = get("/cue/items");
      assertThat(xCache(after)).as("GET after " + method).isEqualTo("MISS");
      assertThat(count(after)).isEqualTo(count(write) + 1);
    }
  }

  @Test
  void noStoreAndPrivateAreNotCached() throws Exception {
    startCue();
    get("/cue/a?cc=no-store");
    assertThat(count(get("/cue/a?cc=no-store"))).isEqualTo(2);
    get("/cue/b?cc=private");
    assertThat(count(get("/cue/b?cc=private"))).isEqualTo(4);
    get("/cue/c?cc=max-age%3D=bogus");
    assertThat(xCache(get("/cue/c?cc=max-age%3D=bogus"))).isNotEqualTo("HIT");
  }

  @Test
  void errorsAreNotCached() throws Exception {
    startCue();
    get("/cue/x?status=503");
    HttpResponse<String> again = get("/cue/x?status=503");
    assertThat(again.statusCode()).isEqualTo(503);
    assertThat(count(again)).isEqualTo(2);
  }

  @Test
  void maxAgeExpiresOnTheInjectedClock() throws Exception {
    startCue();
    get("/cue/t?cc=max-age%3D10");
    nanos.addAndGet(Duration.ofSeconds(9).toNanos());
    assertThat(xCache(get("/cue/t?cc=max-age%3D10"))).isEqualTo("HIT");
    nanos.addAndGet(Duration.ofSeconds(2).toNanos());
    HttpResponse<String> expired = get("/cue/t?cc=max-age%3D10");
    assertThat(xCache(expired)).isEqualTo("MISS");
    assertThat(count(expired)).isEqualTo(2);
  }

  @Test
  void varyKeepsOneEntryPerHeaderValue() throws Exception {
    startCue();
    assertThat(get("/cue/v?vary=x-lang", "x-lang", "en").body()).contains("\"lang\": \"en\"");
    assertThat(get("/cue/v?vary=x-lang", "x-lang", "fr").body()).contains("\"lang\": \"fr\"");
    HttpResponse<String> en = get("/cue/v?vary=x-lang", "x-lang", "en");
    assertThat(xCache(en)).isEqualTo("HIT");
    assertThat(en.body()).contains("\"lang\": \"en\"");
    get("/cue/star?vary=*");
    assertThat(xCache(get("/cue/star?vary=*"))).isNotEqualTo("HIT");
  }

  @Test
  void differentQueriesAreDifferentEntries() throws Exception {
    startCue();
    assertThat(count(get("/cue/q?a=1"))).isEqualTo(1);
    assertThat(count(get("/cue/q?a=2"))).isEqualTo(2);
    assertThat(count(get("/cue/q?a=1"))).isEqualTo(1);
  }

  @Test
  void ifNoneMatchAgainstAStoredEtagAnswers304() throws Exception {
    startCue();
    get("/cue/e?etag=%22v1%22");
    HttpResponse<String> r = get("/cue/e?etag=%22v1%22", "if-none-match", "\"v1\"");
    assertThat(r.statusCode()).isEqualTo(304);
    assertThat(r.headers().firstValue("etag")).hasValue("\"v1\"");
    assertThat(r.body()).isEmpty();
  }

  @Test
  void hundredConcurrentMissesMakeOneChildCall() throws Exception {
    startCue();
    try (ExecutorService ex = Executors.newVirtualThreadPerTaskExecutor()) {
      List<Future<HttpResponse<String>>> all = new ArrayList<>();
      for (int i = 0; i < 100; i++) {
        all.add(ex.submit(() -> get("/cue/sleep?ms=300")));
      }
      for (Future<HttpResponse<String>> f : all) {
        HttpResponse<String> r = f.get();
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(count(r)).isEqualTo(1);
      }
    }
    assertThat(gateway.cache().stats("cue").misses()).isEqualTo(1);
  }

  @Test
  void adminPurgeDropsAFunctionsEntries() throws Exception {
    startCue();
    get("/cue/hello");
    assertThat(xCache(get("/cue/hello"))).isEqualTo("HIT");
    HttpResponse<String> purge =
        client.send(
            HttpRequest.newBuilder(URI.create(base + "/.local-lambdas/cache/purge?function=cue"))
                .POST(HttpRequest.BodyPublishers.noBody())
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(purge.statusCode()).isEqualTo(200);
    assertThat(xCache(get("/cue/hello"))).isEqualTo("MISS");
    HttpResponse<String> viaGet = get("/.local-lambdas/cache/purge");
    assertThat(viaGet.statusCode()).as("no state change on GET").isEqualTo(405);
    HttpResponse<String> status = get("/.local-lambdas/functions");
    assertThat(status.statusCode()).isEqualTo(200);
    assertThat(status.body()).contains("\"id\":\"cue\"").contains("\"hits\":");
    // A page on another origin reaching the gateway through DNS rebinding names its own host.
    try (java.net.Socket socket =
        new java.net.Socket(InetAddress.getLoopbackAddress(), gateway.address().getPort())) {
      socket
          .getOutputStream()
          .write(
              "GET /.local-lambdas/functions HTTP/1.1\r\nHost: evil.example:3000\r\nConnection: close\r\n\r\n"
                  .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
      String answer =
          new String(
              socket.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.US_ASCII);
      assertThat(answer).startsWith("HTTP/1.1 403").contains("DNS rebinding");
    }
  }

  @Test
  void originalFormatManifestKeepsUndirectedResponsesUntilEvicted() throws Exception {
    Path manifest = temp.resolve("manifest.xml");
    Path repo = TestManifests.repo();
    Files.writeString(
        manifest,
        """
        <?xml version="1.0" encoding="UTF-8"?>
        <manifest>
          <process>
            <id>perf-test-pipe</id>
            <executable>python3</executable>
            <arg>%s/examples/legacy/pipe_only_service.py</arg>
            <route>/pipe/*</route>
            <pipe_name>perf_test_pipe</pipe_name>
            <working_dir>%s</working_dir>
          </process>
        </manifest>
        """
            .formatted(repo, repo));
    start(ManifestReader.read(manifest));
    HttpResponse<String> first = get("/pipe/test");
    assertThat(first.statusCode()).isEqualTo(200);
    assertThat(xCache(first)).isEqualTo("MISS");
    nanos.addAndGet(Duration.ofDays(1).toNanos());
    HttpResponse<String> later = get("/pipe/test");
    assertThat(xCache(later)).isEqualTo("HIT");
    assertThat(later.body()).isEqualTo(first.body());
  }
}
