package dev.locallambdas.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.locallambdas.exchange.Headers;
import dev.locallambdas.manifest.CacheSetting;
import dev.locallambdas.manifest.FunctionSpec;
import dev.locallambdas.manifest.Manifest;
import dev.locallambdas.manifest.ManifestReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class CacheSettingsTest {
  @TempDir Path dir;

  private static FunctionSpec spec(String id, CacheSetting cache) {
    return FunctionSpec.builder(id).executable("cat").route("/" + id + "/*").cache(cache).build();
  }

  private static final FunctionSpec FOLLOWS = spec("follows", CacheSetting.DEFAULT);
  private static final FunctionSpec ON =
      spec("on", new CacheSetting(CacheSetting.Mode.ENABLED, Duration.ofSeconds(5), 100));
  private static final FunctionSpec OFF =
      spec("off", new CacheSetting(CacheSetting.Mode.DISABLED, Duration.ofSeconds(5), 100));

  @ParameterizedTest
  @ValueSource(strings = {"", " ", "false", "FALSE", "0"})
  void offValuesLeaveOnlyFunctionsWithTheirOwnCacheElement(String value) {
    CacheSettings s = CacheSettings.of(value, null, List.of(FOLLOWS, ON, OFF));

    assertThat(s.globallyEnabled()).isFalse();
    assertThat(s.functions().keySet()).containsExactly("on");
  }

  @Test
  void unsetIsOff() {
    CacheSettings s = CacheSettings.from(Map.of(), List.of(FOLLOWS));

    assertThat(s.anyEnabled()).isFalse();
    assertThat(s.describe()).isEqualTo("cache off");
  }

  @Test
  void trueTurnsEveryFunctionOnExceptThoseThatSayNo() {
    CacheSettings s = CacheSettings.from(Map.of("ENABLE_CACHE", "true"), List.of(FOLLOWS, ON, OFF));

    assertThat(s.functions().keySet()).containsExactly("follows", "on");
    assertThat(s.enabled("off")).isFalse();
    assertThat(s.maxBytes()).isEqualTo(64L << 20);
    assertThat(s.describe()).isEqualTo("cache on for follows, on (64 MiB)");
  }

  @Test
  void aNumberIsTheOriginalsEntryCountAt64KiBEach() {
    assertThat(CacheSettings.of("1000", null, List.of(FOLLOWS)).maxBytes())
        .isEqualTo(1000L * 65536);
    assertThat(CacheSettings.of("1024", null, List.of(FOLLOWS)).maxBytes()).isEqualTo(64L << 20);
  }

  @Test
  void cacheMaxSizeSetsTheBound() {
    assertThat(CacheSettings.of("true", "16m", List.of(FOLLOWS)).maxBytes()).isEqualTo(16L << 20);
    assertThat(CacheSettings.of("10", "1g", List.of(FOLLOWS)).maxBytes()).isEqualTo(1L << 30);
    assertThat(CacheSettings.of("true", "12345", List.of(FOLLOWS)).maxBytes()).isEqualTo(12345);
  }

  @Test
  void badValuesAreRejectedQuotingThem() {
    assertThatThrownBy(() -> CacheSettings.of("yes", null, List.of()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("ENABLE_CACHE='yes' is not allowed");
    assertThatThrownBy(() -> CacheSettings.of("-5", null, List.of()))
        .hasMessageContaining("ENABLE_CACHE='-5'");
    assertThatThrownBy(() -> CacheSettings.of("99999999999999999999", null, List.of()))
        .hasMessageContaining("is too large");
    assertThatThrownBy(() -> CacheSettings.of("true", "lots", List.of()))
        .hasMessageContaining("CACHE_MAX_SIZE='lots' is not a size");
    assertThatThrownBy(() -> CacheSettings.of("true", "0", List.of()))
        .hasMessageContaining("CACHE_MAX_SIZE='0' is not allowed");
  }

  @Test
  void originalFormatWithEnableCacheKeepsUndirectedResponsesUntilEvicted() throws Exception {
    Path file =
        Files.writeString(
            dir.resolve("manifest.xml"),
            """
            <manifest>
              <process>
                <id>old</id>
                <executable>python3</executable>
                <route>/old/*</route>
                <pipe_name>old</pipe_name>
              </process>
            </manifest>
            """);
    Manifest m = ManifestReader.read(file);
    AtomicLong nanos = new AtomicLong();
    ResponseCache cache =
        ResponseCache.builder(CacheSettings.from(Map.of("ENABLE_CACHE", "true"), m.functions()))
            .ticker(nanos::get)
            .executor(Runnable::run)
            .build();
    FunctionCache fn = cache.function("old");

    Lookup.Forward miss = (Lookup.Forward) fn.lookup("GET", "/old/x", null, CacheFixture.fields());
    CacheFixture.respond(miss, 200, Headers.empty(), "{\"a\":1}");
    nanos.addAndGet(Duration.ofDays(30).toNanos());

    Lookup again = fn.lookup("GET", "/old/x", null, CacheFixture.fields());
    assertThat(again).isInstanceOf(Lookup.Hit.class);
    assertThat(((Lookup.Hit) again).age()).isEqualTo(Long.toString(30L * 24 * 3600));
  }

  @Test
  void requestFieldsCombineRepeatedLinesInOrder() {
    RequestFields f =
        RequestFields.of(CacheFixture.headers("accept", "a", "x", "1", "Accept", "b"));

    assertThat(f.get("accept")).isEqualTo("a, b");
    assertThat(f.get("x")).isEqualTo("1");
    assertThat(f.get("missing")).isNull();
  }
}
