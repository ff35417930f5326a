package dev.locallambdas.manifest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** {@code <upgrade>}: which protocols a function lets clients switch to (docs/websockets.md). */
class UpgradeSettingTest {
  private static FunctionSpec.Builder http() {
    return FunctionSpec.builder("app").executable("node").route("/app/*").protocol(Protocol.HTTP);
  }

  @Test
  void namesAreKeptInLowerCaseAndNoneIsTheDefault() {
    assertThat(http().build().upgrades()).isEmpty();
    assertThat(http().upgrade("WebSocket").upgrade("websocket").build().upgrades())
        .containsExactly("websocket");
  }

  @Test
  void onlyHttpFunctionsMayUpgrade() {
    assertThatThrownBy(
            () ->
                FunctionSpec.builder("p")
                    .executable("python3")
                    .route("/p/*")
                    .upgrade("websocket")
                    .build())
        .hasMessageContaining("only applies to protocol http")
        .hasMessageContaining("not pipe");
  }

  @Test
  void h2cAndNonTokensAreRefusedWithTheReason() {
    assertThatThrownBy(() -> http().upgrade("h2c"))
        .hasMessageContaining("the front door itself speaks HTTP/2");
    assertThatThrownBy(() -> http().upgrade("web socket"))
        .hasMessageContaining("not a protocol name");
    assertThatThrownBy(() -> http().upgrade(" ")).hasMessageContaining("not a protocol name");
  }

  @Test
  void theUpgradesArePartOfTheDefinitionThatReloadCompares() {
    assertThat(http().upgrade("websocket").build().sameDefinition(http().build())).isFalse();
  }
}
