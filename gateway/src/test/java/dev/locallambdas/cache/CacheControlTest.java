package dev.locallambdas.cache;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class CacheControlTest {
  @Test
  void parsesTheDirectivesTheCacheActsOn() {
    CacheControl cc =
        CacheControl.parse(
            "Public, MAX-AGE=60, s-maxage=\"30\", must-revalidate, no-cache=\"a, b\"");

    assertThat(cc.isPublic).isTrue();
    assertThat(cc.maxAge).isEqualTo(60);
    assertThat(cc.sMaxAge).isEqualTo(30);
    assertThat(cc.mustRevalidate).isTrue();
    assertThat(cc.noCache).isTrue();
    assertThat(cc.noStore).isFalse();
  }

  @Test
  void emptyElementsAndAbsentValuesMeanNoDirectives() {
    assertThat(CacheControl.parse(null)).isSameAs(CacheControl.NONE);
    assertThat(CacheControl.parse(" , ,").maxAge).isEqualTo(-1);
  }

  @Test
  void hugeDeltaSecondsAreCappedNotRejected() {
    assertThat(CacheControl.parse("max-age=99999999999999999999999").maxAge)
        .isEqualTo(CacheControl.DELTA_SECONDS_CAP);
  }

  @Test
  void malformedValuesAreNull() {
    for (String bad :
        new String[] {
          "max-age",
          "max-age=1.5",
          "no store",
          "a=\"unterminated",
          "max-age=1, max-age=1",
          "x=",
          "a=b=c",
          "s-maxage=-3",
          "é"
        }) {
      assertThat(CacheControl.parse(bad)).as(bad).isNull();
    }
  }
}
