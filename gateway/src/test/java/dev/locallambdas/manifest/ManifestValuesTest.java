package dev.locallambdas.manifest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class ManifestValuesTest {
  @Test
  void parsesDurationsWithUnits() {
    assertThat(ManifestValues.duration("250ms")).isEqualTo(Duration.ofMillis(250));
    assertThat(ManifestValues.duration("30s")).isEqualTo(Duration.ofSeconds(30));
    assertThat(ManifestValues.duration("5m")).isEqualTo(Duration.ofMinutes(5));
    assertThat(ManifestValues.duration("2h")).isEqualTo(Duration.ofHours(2));
    assertThat(ManifestValues.duration("1.5s")).isEqualTo(Duration.ofMillis(1500));
    assertThat(ManifestValues.duration("10 S")).isEqualTo(Duration.ofSeconds(10));
    assertThat(ManifestValues.duration("0s")).isEqualTo(Duration.ZERO);
  }

  @Test
  void neverIsZeroOnlyWhereAllowed() {
    assertThat(ManifestValues.durationOrNever("never")).isEqualTo(Duration.ZERO);
    assertThat(ManifestValues.durationOrNever("1m")).isEqualTo(Duration.ofMinutes(1));
    assertThatThrownBy(() -> ManifestValues.duration("never"))
        .hasMessageContaining("'never' is not a duration");
  }

  @Test
  void refusesDurationsWithoutAUnitOrWithNonsense() {
    assertThatThrownBy(() -> ManifestValues.duration("30"))
        .hasMessage("'30' has no unit: add one, e.g. 30s (units: ms, s, m, h)");
    assertThatThrownBy(() -> ManifestValues.duration("-1s")).hasMessageContaining("not a duration");
    assertThatThrownBy(() -> ManifestValues.duration("1d")).hasMessageContaining("not a duration");
    assertThatThrownBy(() -> ManifestValues.duration("99999999999999h"))
        .hasMessage("'99999999999999h' is too long");
  }

  @Test
  void parsesSizesWithBinarySuffixes() {
    assertThat(ManifestValues.size("1048576")).isEqualTo(1_048_576L);
    assertThat(ManifestValues.size("0")).isZero();
    assertThat(ManifestValues.size("1k")).isEqualTo(1024L);
    assertThat(ManifestValues.size("2KB")).isEqualTo(2048L);
    assertThat(ManifestValues.size("3kib")).isEqualTo(3072L);
    assertThat(ManifestValues.size("64m")).isEqualTo(64L << 20);
    assertThat(ManifestValues.size("64MiB")).isEqualTo(64L << 20);
    assertThat(ManifestValues.size("5 mb")).isEqualTo(5L << 20);
    assertThat(ManifestValues.size("1g")).isEqualTo(1L << 30);
    assertThat(ManifestValues.size("2GiB")).isEqualTo(2L << 30);
  }

  @Test
  void refusesMalformedOrHugeSizes() {
    assertThatThrownBy(() -> ManifestValues.size("1.5m")).hasMessageContaining("not a size");
    assertThatThrownBy(() -> ManifestValues.size("-1")).hasMessageContaining("not a size");
    assertThatThrownBy(() -> ManifestValues.size("1t")).hasMessageContaining("not a size");
    assertThatThrownBy(() -> ManifestValues.size("9999999999g"))
        .hasMessage("'9999999999g' is too large");
  }

  @Test
  void parsesIntegers() {
    assertThat(ManifestValues.integer("42")).isEqualTo(42);
    assertThat(ManifestValues.integer("-1")).isEqualTo(-1);
    assertThatThrownBy(() -> ManifestValues.integer("4.0"))
        .hasMessage("'4.0' is not a whole number");
    assertThatThrownBy(() -> ManifestValues.integer("99999999999"))
        .hasMessage("'99999999999' is too large");
  }

  @Test
  void suggestsOnlyCloseNames() {
    assertThat(
            Suggestions.closest(
                "max_instance", java.util.List.of("max_instances", "min_instances")))
        .isEqualTo("max_instances");
    assertThat(Suggestions.closest("idd", java.util.List.of("id", "arg"))).isEqualTo("id");
    assertThat(Suggestions.closest("colour", java.util.List.of("route", "env"))).isNull();
  }
}
