package dev.locallambdas.sdk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

class ResponseTest {

  @Test
  void refusesStatusesTheProtocolForbids() {
    assertThatThrownBy(() -> Response.of(101, null)).hasMessageContaining("101");
    assertThatThrownBy(() -> Response.of(100, null)).hasMessageContaining("100");
    assertThatThrownBy(() -> Response.of(600, null)).hasMessageContaining("600");
    assertThat(Response.of(599, null).status()).isEqualTo(599);
  }

  @Test
  void refusesHeadersThatCouldSplitTheResponse() {
    assertThatThrownBy(() -> Response.ok("").header("x-a", "b\r\nx-evil: 1"))
        .hasMessageContaining("x-evil");
    assertThatThrownBy(() -> Response.ok("").header("bad name", "v"))
        .hasMessageContaining("bad name");
  }

  @Test
  void lowerCasesHeaderNamesAndKeepsRepeats() {
    Response response = Response.json("{}").header("Set-Cookie", "a=1").header("set-cookie", "b=2");
    assertThat(response.headers())
        .containsExactly(
            Map.entry("content-type", "application/json"),
            Map.entry("set-cookie", "a=1"),
            Map.entry("set-cookie", "b=2"));
  }
}
