package dev.locallambdas.transport.lambda;

import static org.assertj.core.api.Assertions.assertThat;

import dev.locallambdas.exchange.Headers;
import dev.locallambdas.exchange.Request;
import dev.locallambdas.json.Json;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class EventsTest {
  private static final Aws AWS = new Aws("fn", "eu-west-1", Aws.ACCOUNT);
  private static final long T = 1_583_348_638_390L;

  private static Request request(String method, String query, Headers headers, long length) {
    return new Request(method, "/fn/a%20b", query, headers, length, "192.0.2.1");
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> map(Object o) {
    return (Map<String, Object>) o;
  }

  @Test
  void anHttpApiEventHasTheFieldsAwsSendsAndNoOthers() {
    Headers h =
        Headers.builder()
            .add("host", "api.example.com:3000")
            .add("user-agent", "curl/8")
            .add("x-multi", "1")
            .add("x-multi", "2")
            .add("cookie", "a=1; b=2")
            .add("content-type", "text/plain")
            .build();
    Map<String, Object> e =
        Events.httpApi(
            request("POST", "p=1&p=2&q=%C3%A9&r", h, 5),
            "hello".getBytes(StandardCharsets.UTF_8),
            "req-1",
            AWS,
            T);
    assertThat(e.keySet())
        .containsExactly(
            "version",
            "routeKey",
            "rawPath",
            "rawQueryString",
            "cookies",
            "headers",
            "queryStringParameters",
            "requestContext",
            "body",
            "isBase64Encoded");
    assertThat(e)
        .containsEntry("version", "2.0")
        .containsEntry("rawQueryString", "p=1&p=2&q=%C3%A9&r");
    assertThat(e.get("cookies")).isEqualTo(List.of("a=1", "b=2"));
    assertThat(map(e.get("headers"))).containsEntry("x-multi", "1,2").doesNotContainKey("cookie");
    assertThat(e.get("queryStringParameters")).isEqualTo(Map.of("p", "1,2", "q", "é", "r", ""));
    Map<String, Object> ctx = map(e.get("requestContext"));
    assertThat(ctx.get("domainName")).isEqualTo("api.example.com");
    assertThat(ctx.get("domainPrefix")).isEqualTo("api");
    assertThat(ctx.get("time")).isEqualTo("04/Mar/2020:19:03:58 +0000");
    assertThat(ctx.get("timeEpoch")).isEqualTo(T);
    assertThat(map(ctx.get("http")))
        .containsEntry("method", "POST")
        .containsEntry("sourceIp", "192.0.2.1")
        .containsEntry("userAgent", "curl/8");
    assertThat(e).containsEntry("body", "hello").containsEntry("isBase64Encoded", false);
  }

  @Test
  void anHttpApiEventWithoutBodyQueryOrCookiesLeavesThoseOut() {
    Map<String, Object> e =
        Events.httpApi(request("GET", null, Headers.empty(), 0), new byte[0], "r", AWS, T);
    assertThat(e)
        .doesNotContainKeys("cookies", "queryStringParameters", "body", "pathParameters")
        .containsEntry("rawQueryString", "")
        .containsEntry("isBase64Encoded", false);
  }

  @Test
  void binaryBodiesAreBase64() {
    Headers h = Headers.builder().add("content-type", "image/png").build();
    Map<String, Object> e =
        Events.httpApi(request("POST", null, h, 3), new byte[] {0, 1, 2}, "r", AWS, T);
    assertThat(e).containsEntry("body", "AAEC").containsEntry("isBase64Encoded", true);
  }

  @Test
  void aRestApiEventHasSingleAndMultiValueFieldsAndNoVersion() throws Exception {
    Headers h = Headers.builder().add("x-multi", "1").add("x-multi", "2").build();
    Map<String, Object> e =
        Events.restApi(request("GET", "k=1&k=2", h, 0), new byte[0], "req", AWS, T);
    assertThat(e).doesNotContainKey("version");
    assertThat(map(e.get("headers"))).containsEntry("x-multi", "2");
    assertThat(map(e.get("multiValueHeaders"))).containsEntry("x-multi", List.of("1", "2"));
    assertThat(map(e.get("queryStringParameters"))).containsEntry("k", "2");
    assertThat(map(e.get("multiValueQueryStringParameters"))).containsEntry("k", List.of("1", "2"));
    assertThat(e.get("pathParameters")).isEqualTo(Map.of("proxy", "fn/a%20b"));
    assertThat(e.get("body")).isEqualTo(Json.NULL);
    assertThat(e.get("resource")).isEqualTo("/{proxy+}");
    // What is built is JSON that parses back to itself.
    String json = Json.write(e);
    assertThat(Json.write(Json.parse(json))).isEqualTo(json);
  }
}
