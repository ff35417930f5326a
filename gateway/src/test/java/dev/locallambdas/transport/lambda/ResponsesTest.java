package dev.locallambdas.transport.lambda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.locallambdas.manifest.LambdaEvent;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class ResponsesTest {
  private static HttpAnswer map(LambdaEvent format, String payload) throws Exception {
    return Responses.map(format, payload.getBytes(StandardCharsets.UTF_8));
  }

  private static String body(HttpAnswer a) {
    return new String(a.body(), StandardCharsets.UTF_8);
  }

  @Test
  void aProxyResponseGivesStatusHeadersCookiesAndBody() throws Exception {
    HttpAnswer a =
        map(
            LambdaEvent.HTTP_API,
            "{\"statusCode\":201,\"headers\":{\"X-A\":\"1\",\"X-N\":2},"
                + "\"cookies\":[\"a=1\",\"b=2\"],\"body\":\"hi\"}");
    assertThat(a.status()).isEqualTo(201);
    assertThat(a.headers().get("x-a")).isEqualTo("1");
    assertThat(a.headers().get("x-n")).isEqualTo("2");
    assertThat(a.headers().all("set-cookie")).containsExactly("a=1", "b=2");
    assertThat(a.headers().get("content-type")).isEqualTo("application/json");
    assertThat(body(a)).isEqualTo("hi");
  }

  @Test
  void aBareJsonValueIsTheBodyOfA200InHttpApiEvents() throws Exception {
    HttpAnswer a = map(LambdaEvent.HTTP_API, "\"hello\"");
    assertThat(a.status()).isEqualTo(200);
    assertThat(a.headers().get("content-type")).isEqualTo("application/json");
    assertThat(body(a)).isEqualTo("\"hello\"");
    assertThat(body(map(LambdaEvent.HTTP_API, "{\"a\":1}"))).isEqualTo("{\"a\":1}");
  }

  @Test
  void restApiEventsNeedAProxyResponse() {
    assertThatThrownBy(() -> map(LambdaEvent.REST_API, "{\"a\":1}"))
        .isInstanceOf(Responses.MalformedException.class)
        .hasMessageContaining("statusCode");
  }

  @Test
  void multiValueHeadersAndBase64BodiesAreDecoded() throws Exception {
    HttpAnswer a =
        map(
            LambdaEvent.REST_API,
            "{\"statusCode\":\"200\",\"multiValueHeaders\":{\"X-M\":[\"a\",\"b\"]},"
                + "\"body\":\"AAEC\",\"isBase64Encoded\":true,"
                + "\"headers\":{\"content-type\":\"application/octet-stream\"}}");
    assertThat(a.headers().all("x-m")).containsExactly("a", "b");
    assertThat(a.body()).containsExactly(0, 1, 2);
  }

  @Test
  void framingAndHopByHopFieldsFromTheHandlerAreDropped() throws Exception {
    HttpAnswer a =
        map(
            LambdaEvent.HTTP_API,
            "{\"statusCode\":200,\"headers\":{\"Content-Length\":\"99\",\"Connection\":\"close\"}}");
    assertThat(a.headers().get("content-length")).isNull();
    assertThat(a.headers().get("connection")).isNull();
  }

  @Test
  void nonsenseIsRefusedWithTheReason() {
    assertThatThrownBy(() -> map(LambdaEvent.HTTP_API, "not json"))
        .hasMessageContaining("not JSON");
    assertThatThrownBy(() -> map(LambdaEvent.HTTP_API, "{\"statusCode\":42}"))
        .hasMessageContaining("statusCode 42");
    assertThatThrownBy(() -> map(LambdaEvent.HTTP_API, "{\"statusCode\":200,\"body\":1}"))
        .hasMessageContaining("body");
    assertThatThrownBy(
            () -> map(LambdaEvent.HTTP_API, "{\"statusCode\":200,\"headers\":{\"a b\":\"x\"}}"))
        .hasMessageContaining("invalid name");
  }

  @Test
  void rawResultsPassUnchanged() throws Exception {
    HttpAnswer a = map(LambdaEvent.RAW, "anything at all");
    assertThat(a.status()).isEqualTo(200);
    assertThat(body(a)).isEqualTo("anything at all");
  }
}
