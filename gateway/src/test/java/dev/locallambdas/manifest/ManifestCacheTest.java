package dev.locallambdas.manifest;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The per-function {@code <cache>} element. */
class ManifestCacheTest {
  @TempDir Path dir;

  private static String v1(String cache) {
    return "<manifest version=\"1\"><function><id>a</id><executable>cat</executable>"
        + "<route>/a/*</route>"
        + cache
        + "</function></manifest>";
  }

  private Manifest read(String xml) throws ManifestException {
    return ManifestReader.read(ManifestFiles.write(dir, xml));
  }

  @Test
  void withoutCacheElementAFunctionFollowsTheGlobalSwitch() throws Exception {
    CacheSetting c = read(v1("")).function("a").cache();

    assertThat(c.mode()).isEqualTo(CacheSetting.Mode.FOLLOW_GLOBAL);
    assertThat(c.defaultTtl()).isEqualTo(Duration.ofMinutes(1));
    assertThat(c.maxEntryBytes()).isEqualTo(1 << 20);
  }

  @Test
  void originalFormatKeepsResponsesUntilEvictedByDefault() throws Exception {
    Manifest m = ManifestReader.read(ManifestFiles.resource("valid/original-with-cache.xml"));

    CacheSetting plain = m.function("plain").cache();
    assertThat(plain.mode()).isEqualTo(CacheSetting.Mode.FOLLOW_GLOBAL);
    assertThat(plain.untilEvicted()).isTrue();
    CacheSetting cached = m.function("cached").cache();
    assertThat(cached.mode()).isEqualTo(CacheSetting.Mode.ENABLED);
    assertThat(cached.untilEvicted()).isTrue();
    assertThat(m.function("short").cache().maxEntryBytes()).isEqualTo(64 * 1024);
  }

  @Test
  void emptyCacheElementTurnsCachingOnWithDefaults() throws Exception {
    CacheSetting c = read(v1("<cache/>")).function("a").cache();

    assertThat(c.mode()).isEqualTo(CacheSetting.Mode.ENABLED);
    assertThat(c.defaultTtl()).isEqualTo(CacheSetting.DEFAULT_TTL);
  }

  @Test
  void readsEnabledTtlAndMaxEntrySize() throws Exception {
    CacheSetting c =
        read(v1(
                "<cache><enabled>FALSE</enabled><ttl>90s</ttl><max_entry_size>2m</max_entry_size></cache>"))
            .function("a")
            .cache();

    assertThat(c.mode()).isEqualTo(CacheSetting.Mode.DISABLED);
    assertThat(c.defaultTtl()).isEqualTo(Duration.ofSeconds(90));
    assertThat(c.maxEntryBytes()).isEqualTo(2 << 20);
  }

  @Test
  void ttlNeverMeansUntilEvictedAndZeroMeansOnlyExplicitFreshness() throws Exception {
    assertThat(read(v1("<cache><ttl>never</ttl></cache>")).function("a").cache().untilEvicted())
        .isTrue();
    assertThat(read(v1("<cache><ttl>0s</ttl></cache>")).function("a").cache().defaultTtl())
        .isZero();
  }

  @Test
  void v1EveryElementManifestCarriesCacheSettings() throws Exception {
    Manifest m = ManifestReader.read(ManifestFiles.resource("valid/v1-every-element.xml"));

    assertThat(m.function("hello").cache())
        .isEqualTo(new CacheSetting(CacheSetting.Mode.ENABLED, Duration.ofSeconds(30), 256 * 1024));
    assertThat(m.function("echo").cache().mode()).isEqualTo(CacheSetting.Mode.DISABLED);
  }

  @Test
  void badCacheValuesAreReportedWithTheirLineAndValue() {
    String xml =
        """
        <manifest version="1">
        <function><id>a</id><executable>cat</executable><route>/a/*</route>
        <cache>
        <enabled>yes</enabled>
        <ttl>30</ttl>
        <max_entry_size>0</max_entry_size>
        <max_entry_sise>1m</max_entry_sise>
        <ttl>1s</ttl>
        </cache>
        </function></manifest>""";

    ManifestException e = ManifestFiles.rejected(dir, xml);

    assertThat(e.problems())
        .extracting(p -> p.line() + " " + p.element() + ": " + p.message())
        .containsExactly(
            "4 <enabled> in <cache> of 'a': 'yes' is not allowed: use true or false",
            "5 <ttl> in <cache> of 'a': '30' has no unit: add one, e.g. 30s (units: ms, s, m, h)",
            "6 <max_entry_size> in <cache> of 'a': '0' is not allowed: it must be between 1 byte and 1g",
            "7 <max_entry_sise> in <cache> of 'a': unknown element: did you mean <max_entry_size>?",
            "8 <ttl> in <cache> of 'a': given twice (first at line 5): keep one");
  }

  @Test
  void cacheGivenTwiceOrWithTextIsAnError() {
    ManifestException twice = ManifestFiles.rejected(dir, v1("<cache/><cache/>"));
    assertThat(twice.getMessage()).contains("<cache> of 'a': given twice");

    ManifestException text = ManifestFiles.rejected(dir, v1("<cache>true</cache>"));
    assertThat(text.getMessage()).contains("<cache> of 'a': unexpected text 'true'");
  }

  @Test
  void builderDefaultFollowsTheGlobalSwitch() {
    FunctionSpec spec = FunctionSpec.builder("x").executable("cat").route("/x").build();

    assertThat(spec.cache()).isEqualTo(CacheSetting.DEFAULT);
    assertThat(spec.toBuilder().build().cache()).isEqualTo(CacheSetting.DEFAULT);
  }
}
