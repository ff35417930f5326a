package dev.locallambdas.cache;

import static dev.locallambdas.cache.CacheFixture.body;
import static dev.locallambdas.cache.CacheFixture.fields;
import static dev.locallambdas.cache.CacheFixture.headers;
import static org.assertj.core.api.Assertions.assertThat;

import dev.locallambdas.cache.CacheFixture.RecordingSink;
import dev.locallambdas.exchange.Headers;
import dev.locallambdas.manifest.CacheSetting;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ResponseCacheTest {
  private final CacheFixture f = new CacheFixture();

  private static final Headers TEXT = headers("content-type", "text/plain");

  private static String httpDate(long epochSeconds) {
    return DateTimeFormatter.RFC_1123_DATE_TIME.format(
        java.time.Instant.ofEpochSecond(epochSeconds).atZone(ZoneOffset.UTC));
  }

  private Lookup.Hit hit(Lookup l) {
    assertThat(l).isInstanceOf(Lookup.Hit.class);
    return (Lookup.Hit) l;
  }

  private void assertMiss(Lookup l) {
    assertThat(l).isInstanceOf(Lookup.Forward.class);
    assertThat(((Lookup.Forward) l).xCache()).isEqualTo("MISS");
    ((Lookup.Forward) l).done();
  }

  @Test
  void repeatedGetIsAnsweredFromMemory() {
    RecordingSink first = f.fetch("/fn/a", 200, TEXT, "hello");

    assertThat(first.headers.get("x-cache")).isEqualTo("MISS");
    assertThat(first.text()).isEqualTo("hello");
    Lookup.Hit hit = hit(f.get("/fn/a"));
    assertThat(hit.status()).isEqualTo(200);
    assertThat(body(hit)).isEqualTo("hello");
    assertThat(hit.headers().get("content-type")).isEqualTo("text/plain");
    assertThat(hit.headers().get("x-cache")).isNull();
    assertThat(hit.age()).isEqualTo("0");
    CacheStats s = f.cache.stats(CacheFixture.FN);
    assertThat(s.hits()).isEqualTo(1);
    assertThat(s.misses()).isEqualTo(1);
    assertThat(s.stores()).isEqualTo(1);
    assertThat(s.bytes()).isGreaterThan(5);
  }

  @Test
  void headIsAnsweredFromAStoredGet() {
    f.fetch("/fn/a", 200, TEXT, "hello");

    Lookup.Hit hit = hit(f.fn.lookup("HEAD", "/fn/a", null, fields()));
    assertThat(hit.body()).hasSize(5); // the front door sends Content-Length: 5 and no body
  }

  @Test
  void headMissGoesToTheFunctionAndIsNotStored() {
    Lookup l = f.fn.lookup("HEAD", "/fn/a", null, fields());
    assertThat(l).isInstanceOf(Lookup.Forward.class);
    CacheFixture.respond((Lookup.Forward) l, 200, TEXT, "");

    assertMiss(f.get("/fn/a"));
  }

  @Test
  void postAlwaysReachesTheFunctionAndInvalidatesTheUrl() {
    f.fetch("/fn/a", 200, TEXT, "v1");
    Lookup post = f.fn.lookup("POST", "/fn/a", null, fields());

    assertThat(post).isInstanceOf(Lookup.Forward.class);
    assertThat(((Lookup.Forward) post).xCache()).isEqualTo("BYPASS");
    RecordingSink client = CacheFixture.respond((Lookup.Forward) post, 200, TEXT, "ok");
    assertThat(client.headers.get("x-cache")).isEqualTo("BYPASS");
    assertMiss(f.get("/fn/a"));
  }

  @Test
  void failedPostLeavesTheStoredResponse() {
    f.fetch("/fn/a", 200, TEXT, "v1");
    CacheFixture.respond(
        (Lookup.Forward) f.fn.lookup("POST", "/fn/a", null, fields()), 500, TEXT, "no");

    hit(f.get("/fn/a"));
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "no-store",
        "private",
        "private=\"set-cookie\"",
        "no-cache",
        "no-cache=\"x\", max-age=60",
        "max-age=60, no-store"
      })
  void responsesForbiddingASharedCacheAreNotStored(String cacheControl) {
    f.fetch("/fn/a", 200, headers("cache-control", cacheControl), "x");

    assertMiss(f.get("/fn/a"));
    assertThat(f.cache.stats(CacheFixture.FN).stores()).isZero();
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "max-age=abc",
        "max-age=",
        "max-age=-1",
        "max-age=10, max-age=20",
        "max-age=\"10",
        "max-age = 10",
        "=10",
        "max-age=10;"
      })
  void malformedCacheControlIsNotCacheableAndNotAnError(String cacheControl) {
    RecordingSink client = f.fetch("/fn/a", 200, headers("cache-control", cacheControl), "x");

    assertThat(client.status).isEqualTo(200);
    assertThat(client.text()).isEqualTo("x");
    assertMiss(f.get("/fn/a"));
  }

  @Test
  void quotedMaxAgeAndUnknownDirectivesAreAccepted() {
    f.fetch(
        "/fn/a",
        200,
        headers("cache-control", "public, max-age=\"30\", ext=\"a, b\", immutable"),
        "x");

    hit(f.get("/fn/a"));
  }

  @Test
  void responsesSettingCookiesAreNotStored() {
    f.fetch("/fn/a", 200, headers("set-cookie", "id=1", "cache-control", "max-age=60"), "x");

    assertMiss(f.get("/fn/a"));
  }

  @ParameterizedTest
  @ValueSource(ints = {500, 501, 502, 503, 504, 206, 304, 101})
  void serverErrorsPartialAndNotModifiedResponsesAreNeverStored(int status) {
    f.fetch("/fn/a", status, headers("cache-control", "public, max-age=60"), "x");

    assertMiss(f.get("/fn/a"));
  }

  @ParameterizedTest
  @ValueSource(ints = {200, 203, 204, 300, 301, 308, 404, 405, 410, 414})
  void heuristicallyCacheableStatusesUseTheDefaultTtl(int status) {
    f.fetch("/fn/a", status, TEXT, "x");

    assertThat(hit(f.get("/fn/a")).status()).isEqualTo(status);
  }

  @Test
  void otherStatusesNeedExplicitFreshness() {
    f.fetch("/fn/a", 302, headers("location", "/b"), "");
    assertMiss(f.get("/fn/a"));

    f.fetch("/fn/a", 302, headers("location", "/b", "cache-control", "max-age=60"), "");
    assertThat(hit(f.get("/fn/a")).status()).isEqualTo(302);
  }

  @Test
  void maxAgeExpiresWithTheClock() {
    f.fetch("/fn/a", 200, headers("cache-control", "max-age=10"), "x");

    f.advance(Duration.ofSeconds(9));
    assertThat(hit(f.get("/fn/a")).age()).isEqualTo("9");
    f.advance(Duration.ofSeconds(1));
    assertMiss(f.get("/fn/a"));
  }

  @Test
  void sMaxAgeWinsOverMaxAgeInASharedCache() {
    f.fetch("/fn/a", 200, headers("cache-control", "max-age=100, s-maxage=5"), "x");

    f.advance(Duration.ofSeconds(4));
    hit(f.get("/fn/a"));
    f.advance(Duration.ofSeconds(2));
    assertMiss(f.get("/fn/a"));
  }

  @Test
  void maxAgeWinsOverExpires() {
    long now = CacheFixture.WALL.getEpochSecond();
    f.fetch(
        "/fn/a", 200, headers("cache-control", "max-age=100", "expires", httpDate(now + 5)), "x");

    f.advance(Duration.ofSeconds(50));
    hit(f.get("/fn/a"));
  }

  @Test
  void expiresCountsFromTheResponsesDate() {
    long date = CacheFixture.WALL.getEpochSecond() - 1000; // the function's clock is irrelevant
    f.fetch("/fn/a", 200, headers("date", httpDate(date), "expires", httpDate(date + 20)), "x");

    f.advance(Duration.ofSeconds(19));
    hit(f.get("/fn/a"));
    f.advance(Duration.ofSeconds(2));
    assertMiss(f.get("/fn/a"));
  }

  @Test
  void expiresWithoutDateCountsFromTheWallClock() {
    long now = CacheFixture.WALL.getEpochSecond();
    f.fetch("/fn/a", 200, headers("expires", httpDate(now + 30)), "x");

    f.advance(Duration.ofSeconds(29));
    hit(f.get("/fn/a"));
    f.advance(Duration.ofSeconds(2));
    assertMiss(f.get("/fn/a"));
  }

  @Test
  void invalidOrPastExpiresIsNotStored() {
    f.fetch("/fn/a", 200, headers("expires", "0"), "x");
    assertMiss(f.get("/fn/a"));
    f.fetch(
        "/fn/a", 200, headers("expires", httpDate(CacheFixture.WALL.getEpochSecond() - 1)), "x");
    assertMiss(f.get("/fn/a"));
  }

  @Test
  void undirectedResponsesLiveForTheDefaultTtl() {
    f.fetch("/fn/a", 200, TEXT, "x");

    f.advance(Duration.ofSeconds(59));
    hit(f.get("/fn/a"));
    f.advance(Duration.ofSeconds(2));
    assertMiss(f.get("/fn/a"));
  }

  @Test
  void untilEvictedNeverExpires() {
    CacheFixture forever =
        new CacheFixture(
            new CacheSetting(CacheSetting.Mode.ENABLED, CacheSetting.UNTIL_EVICTED, 1 << 20), null);
    forever.fetch("/fn/a", 200, TEXT, "x");

    forever.advance(Duration.ofDays(3650));
    assertThat(hit(forever.get("/fn/a")).age()).isEqualTo(Long.toString(3650L * 24 * 3600));
    // Explicit freshness still applies.
    forever.fetch("/fn/b", 200, headers("cache-control", "max-age=1"), "x");
    forever.advance(Duration.ofSeconds(2));
    assertMiss(forever.get("/fn/b"));
  }

  @Test
  void zeroTtlStoresOnlyResponsesWithExplicitFreshness() {
    CacheFixture z =
        new CacheFixture(new CacheSetting(CacheSetting.Mode.ENABLED, Duration.ZERO, 1 << 20), null);
    z.fetch("/fn/a", 200, TEXT, "x");
    assertMiss(z.get("/fn/a"));
    z.fetch("/fn/a", 200, headers("cache-control", "max-age=5"), "x");
    hit(z.get("/fn/a"));
  }

  @Test
  void theFunctionsAgeCountsTowardsAgeAndExpiry() {
    f.fetch("/fn/a", 200, headers("cache-control", "max-age=60", "age", "50"), "x");

    Lookup.Hit h = hit(f.get("/fn/a"));
    assertThat(h.age()).isEqualTo("50");
    assertThat(h.headers().get("age")).isNull();
    f.advance(Duration.ofSeconds(10));
    assertMiss(f.get("/fn/a"));
  }

  @Test
  void ageUpdatesEverySecond() {
    f.fetch("/fn/a", 200, TEXT, "x");
    f.advance(Duration.ofMillis(1500));
    assertThat(hit(f.get("/fn/a")).age()).isEqualTo("1");
    f.advance(Duration.ofMillis(600));
    assertThat(hit(f.get("/fn/a")).age()).isEqualTo("2");
  }

  @Test
  void varyKeepsOneVariantPerRequestFieldValue() {
    Headers vary = headers("vary", "Accept-Encoding", "cache-control", "max-age=60");
    f.fetch("/fn/a", 200, vary, "gzip", "accept-encoding", "gzip");
    f.fetch("/fn/a", 200, vary, "br", "accept-encoding", "br");

    assertThat(body(hit(f.get("/fn/a", "accept-encoding", "gzip")))).isEqualTo("gzip");
    assertThat(body(hit(f.get("/fn/a", "accept-encoding", "br")))).isEqualTo("br");
    assertMiss(f.get("/fn/a"));
    assertMiss(f.get("/fn/a", "accept-encoding", "identity"));
  }

  @Test
  void varyStarIsNeverStored() {
    f.fetch("/fn/a", 200, headers("vary", "accept, *", "cache-control", "max-age=60"), "x");

    assertMiss(f.get("/fn/a"));
  }

  @Test
  void differentQueriesAreDifferentEntries() {
    f.fetch("/fn/a", 200, TEXT, "no query");
    Lookup q1 = f.fn.lookup("GET", "/fn/a", "x=1", fields());
    CacheFixture.respond((Lookup.Forward) q1, 200, TEXT, "x=1");

    assertThat(body(hit(f.fn.lookup("GET", "/fn/a", "x=1", fields())))).isEqualTo("x=1");
    assertThat(body(hit(f.get("/fn/a")))).isEqualTo("no query");
    assertMiss(f.fn.lookup("GET", "/fn/a", "x=2", fields()));
    assertMiss(f.fn.lookup("GET", "/fn/a", "", fields()));
  }

  @Test
  void authorizedRequestsAreNotServedAnOrdinaryStoredResponse() {
    f.fetch("/fn/a", 200, headers("cache-control", "max-age=60"), "for anyone");

    assertMiss(f.get("/fn/a", "authorization", "Bearer t"));
  }

  @Test
  void responsesToAuthorizedRequestsAreStoredOnlyWhenTheyAllowIt() {
    f.fetch(
        "/fn/a", 200, headers("cache-control", "max-age=60"), "mine", "authorization", "Bearer t");
    assertMiss(f.get("/fn/a"));

    f.fetch(
        "/fn/b",
        200,
        headers("cache-control", "public, max-age=60"),
        "shared",
        "authorization",
        "Bearer t");
    assertThat(body(hit(f.get("/fn/b", "authorization", "Bearer u")))).isEqualTo("shared");
    f.fetch(
        "/fn/c", 200, headers("cache-control", "s-maxage=60"), "s", "authorization", "Bearer t");
    hit(f.get("/fn/c", "authorization", "Bearer t"));
    f.fetch(
        "/fn/d",
        200,
        headers("cache-control", "must-revalidate, max-age=60"),
        "m",
        "authorization",
        "Bearer t");
    hit(f.get("/fn/d"));
  }

  @Test
  void ifNoneMatchWithTheStoredEtagAnswers304() {
    f.fetch(
        "/fn/a",
        200,
        headers(
            "etag",
            "\"v1\"",
            "cache-control",
            "max-age=60",
            "content-type",
            "text/plain",
            "date",
            "x"),
        "body");

    Lookup.Hit h = hit(f.get("/fn/a", "if-none-match", "\"v0\", W/\"v1\""));
    assertThat(h.status()).isEqualTo(304);
    assertThat(h.notModified()).isTrue();
    assertThat(h.body()).isEmpty();
    assertThat(h.headers().get("etag")).isEqualTo("\"v1\"");
    assertThat(h.headers().get("cache-control")).isEqualTo("max-age=60");
    assertThat(h.headers().get("date")).isEqualTo("x");
    assertThat(h.headers().get("content-type")).isNull();
    assertThat(h.age()).isEqualTo("0");

    assertThat(hit(f.get("/fn/a", "if-none-match", "*")).status()).isEqualTo(304);
    assertThat(hit(f.get("/fn/a", "if-none-match", "\"v2\"")).status()).isEqualTo(200);
    assertThat(hit(f.get("/fn/a", "if-none-match", "garbage")).status()).isEqualTo(200);
  }

  @Test
  void weakStoredEtagMatchesByWeakComparison() {
    f.fetch("/fn/a", 200, headers("etag", "W/\"v1\""), "body");

    assertThat(hit(f.get("/fn/a", "if-none-match", "\"v1\"")).status()).isEqualTo(304);
  }

  @Test
  void ifModifiedSinceAnswers304WhenNotModified() {
    long lm = CacheFixture.WALL.getEpochSecond() - 100;
    f.fetch("/fn/a", 200, headers("last-modified", httpDate(lm)), "body");

    assertThat(hit(f.get("/fn/a", "if-modified-since", httpDate(lm))).status()).isEqualTo(304);
    assertThat(hit(f.get("/fn/a", "if-modified-since", httpDate(lm - 1))).status()).isEqualTo(200);
  }

  @Test
  void storedErrorStatusesIgnorePreconditions() {
    f.fetch("/fn/a", 404, headers("etag", "\"v1\""), "nope");

    assertThat(hit(f.get("/fn/a", "if-none-match", "\"v1\"")).status()).isEqualTo(404);
  }

  @Test
  void requestNoStoreBypassesTheCache() {
    f.fetch("/fn/a", 200, TEXT, "x");

    Lookup l = f.get("/fn/a", "cache-control", "no-store");
    assertThat(((Lookup.Forward) l).xCache()).isEqualTo("BYPASS");
    CacheFixture.respond((Lookup.Forward) l, 200, TEXT, "new");
    assertThat(body(hit(f.get("/fn/a")))).isEqualTo("x");
  }

  @Test
  void requestNoCacheFetchesAFreshResponseAndStoresIt() {
    f.fetch("/fn/a", 200, TEXT, "old");

    f.fetch("/fn/a", 200, TEXT, "new", "cache-control", "no-cache");
    assertThat(body(hit(f.get("/fn/a")))).isEqualTo("new");
    f.fetch("/fn/a", 200, TEXT, "newer", "pragma", "no-cache");
    assertThat(body(hit(f.get("/fn/a")))).isEqualTo("newer");
  }

  @Test
  void requestMaxAgeLimitsTheAgeOfAHit() {
    f.fetch("/fn/a", 200, TEXT, "x");
    f.advance(Duration.ofSeconds(10));

    hit(f.get("/fn/a", "cache-control", "max-age=10"));
    assertMiss(f.get("/fn/a", "cache-control", "max-age=9"));
  }

  @Test
  void malformedRequestCacheControlBypasses() {
    f.fetch("/fn/a", 200, TEXT, "x");

    Lookup l = f.get("/fn/a", "cache-control", "max-age=x");
    assertThat(((Lookup.Forward) l).xCache()).isEqualTo("BYPASS");
  }

  @Test
  void bodiesAboveTheEntryLimitStreamThroughAndAreNotStored() throws IOException {
    CacheFixture small =
        new CacheFixture(
            new CacheSetting(CacheSetting.Mode.ENABLED, CacheSetting.DEFAULT_TTL, 10), null);
    RecordingSink declared = small.fetch("/fn/a", 200, TEXT, "01234567890");
    assertThat(declared.text()).isEqualTo("01234567890");
    assertMiss(small.get("/fn/a"));

    // Unknown length: the capture gives up when the chunks pass the limit.
    Lookup.Forward fw = (Lookup.Forward) small.get("/fn/b");
    RecordingSink client = new RecordingSink();
    var s = fw.sink(client);
    s.head(200, TEXT, -1);
    s.body(ByteBuffer.wrap("0123456".getBytes(StandardCharsets.UTF_8)));
    s.body(ByteBuffer.wrap("789ab".getBytes(StandardCharsets.UTF_8)));
    s.end();
    fw.done();
    assertThat(client.text()).isEqualTo("0123456789ab");
    assertMiss(small.get("/fn/b"));

    small.fetch("/fn/c", 200, TEXT, "0123456789");
    hit(small.get("/fn/c"));
  }

  @Test
  void chunkedBodiesAreCapturedWhole() throws IOException {
    Lookup.Forward fw = (Lookup.Forward) f.get("/fn/a");
    RecordingSink client = new RecordingSink();
    var s = fw.sink(client);
    s.head(200, TEXT, -1);
    for (int i = 0; i < 5000; i++) {
      s.body(ByteBuffer.wrap(("" + (i % 10)).getBytes(StandardCharsets.UTF_8)));
    }
    s.end();
    fw.done();

    assertThat(hit(f.get("/fn/a")).body()).hasSize(5000);
    assertThat(client.body.size()).isEqualTo(5000);
  }

  @Test
  void theCacheIsBoundedByBytesAndCountsEvictions() {
    CacheFixture bounded =
        new CacheFixture(
            new CacheSetting(CacheSetting.Mode.ENABLED, CacheSetting.DEFAULT_TTL, 1 << 20), "64k");
    String body = "x".repeat(4000);
    for (int i = 0; i < 100; i++) {
      bounded.fetch("/fn/" + i, 200, TEXT, body);
    }
    bounded.cache.cleanUp();

    CacheStats s = bounded.cache.stats(CacheFixture.FN);
    assertThat(s.stores()).isEqualTo(100);
    assertThat(s.evictions()).isGreaterThan(0);
    assertThat(s.bytes()).isLessThanOrEqualTo(64 * 1024).isGreaterThan(0);
  }

  @Test
  void expiredEntriesCountAsEvictionsAndFreeTheirBytes() {
    f.fetch("/fn/a", 200, headers("cache-control", "max-age=1"), "x");
    f.advance(Duration.ofSeconds(5));
    f.cache.cleanUp();

    assertThat(f.cache.stats(CacheFixture.FN).evictions()).isEqualTo(1);
    assertThat(f.cache.stats(CacheFixture.FN).bytes()).isZero();
  }

  @Test
  void invalidateDropsAFunctionsEntries() {
    f.fetch("/fn/a", 200, TEXT, "x");
    f.fetch("/fn/b", 200, TEXT, "x");

    f.cache.invalidate(CacheFixture.FN);
    assertMiss(f.get("/fn/a"));
    assertMiss(f.get("/fn/b"));
    assertThat(f.cache.stats(CacheFixture.FN).bytes()).isZero();

    f.fetch("/fn/a", 200, TEXT, "x");
    f.cache.invalidateAll();
    assertMiss(f.get("/fn/a"));
  }

  @Test
  void aResponseFetchedBeforeAPurgeIsNotStoredAfterIt() {
    Lookup.Forward leader = (Lookup.Forward) f.get("/fn/a");
    f.cache.invalidate(CacheFixture.FN);
    CacheFixture.respond(leader, 200, TEXT, "from the old function");

    assertMiss(f.get("/fn/a"));
  }

  @Test
  void aResponseCompleteFromTheFunctionIsStoredEvenWhenTheClientLeftAtTheEnd() throws IOException {
    Lookup.Forward fw = (Lookup.Forward) f.get("/fn/a");
    RecordingSink client = new RecordingSink();
    client.failOnEnd = true;
    var s = fw.sink(client);
    s.head(200, TEXT, 1);
    s.body(ByteBuffer.wrap("x".getBytes(StandardCharsets.UTF_8)));
    try {
      s.end();
    } catch (IOException expected) {
      // the front door aborts the connection
    }
    fw.done();

    hit(f.get("/fn/a"));
  }

  @Test
  void anAbortedResponseIsNotStored() throws IOException {
    Lookup.Forward fw = (Lookup.Forward) f.get("/fn/a");
    RecordingSink client = new RecordingSink();
    client.failOnBody = true;
    var s = fw.sink(client);
    s.head(200, TEXT, 2);
    try {
      s.body(ByteBuffer.wrap("xy".getBytes(StandardCharsets.UTF_8)));
    } catch (IOException expected) {
      // the transport stops here and never calls end()
    }
    fw.done();

    assertMiss(f.get("/fn/a"));
  }

  @Test
  void functionsWithCachingOffHaveNoCache() {
    assertThat(f.cache.function("other")).isNull();
    assertThat(f.cache.stats("other")).isEqualTo(CacheStats.EMPTY);
  }

  @Test
  void wireFormIsComputedOncePerStoredResponseAndForm() {
    f.fetch("/fn/a", 200, headers("etag", "\"v\""), "x");
    int[] calls = {0};

    String a = hit(f.get("/fn/a")).wireForm(h -> "full" + ++calls[0]);
    String b = hit(f.get("/fn/a")).wireForm(h -> "full" + ++calls[0]);
    String c = hit(f.get("/fn/a", "if-none-match", "\"v\"")).wireForm(h -> "304:" + h.status());

    assertThat(a).isEqualTo("full1").isEqualTo(b);
    assertThat(c).isEqualTo("304:304");
  }
}
