package dev.locallambdas.transport.lambda;

import dev.locallambdas.exchange.Headers;
import dev.locallambdas.exchange.HttpSyntax;
import dev.locallambdas.json.Json;
import dev.locallambdas.manifest.LambdaEvent;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Map;

/**
 * Maps a handler's result back to HTTP the way API Gateway does: a proxy response object ({@code
 * statusCode}, {@code headers}, {@code multiValueHeaders} or {@code cookies}, {@code body}, {@code
 * isBase64Encoded}); for the HTTP API (2.0) also the shortcut where any other JSON value is the
 * body of a 200 application/json response; for raw events the payload itself.
 */
final class Responses {
  private static final String JSON = "application/json";

  private Responses() {}

  /** A result API Gateway would refuse (it answers 502 for it); the message says why. */
  static final class MalformedException extends Exception {
    private static final long serialVersionUID = 1L;

    MalformedException(String message) {
      super(message);
    }
  }

  static HttpAnswer map(LambdaEvent format, byte[] payload) throws MalformedException {
    if (format == LambdaEvent.RAW) {
      return new HttpAnswer(200, Headers.builder().add("content-type", JSON).build(), payload);
    }
    Object value;
    try {
      value = Json.parse(payload);
    } catch (Json.SyntaxException e) {
      throw new MalformedException(
          "its result is not JSON (" + e.getMessage() + "), which API Gateway cannot answer with");
    }
    boolean v2 = format == LambdaEvent.HTTP_API;
    if (value instanceof Map<?, ?> m && m.containsKey("statusCode")) {
      return proxy(m, v2);
    }
    if (v2) {
      // The 2.0 shortcut: valid JSON without a statusCode is the body of a 200.
      return new HttpAnswer(200, Headers.builder().add("content-type", JSON).build(), payload);
    }
    throw new MalformedException(
        "its result is not a Lambda proxy response (an object with a statusCode), which a REST"
            + " API answers with 502 Malformed Lambda proxy response");
  }

  /**
   * The head of a streamed response from its prelude ({@code
   * application/vnd.awslambda.http-integration-response}): {@code statusCode} (200 when absent),
   * {@code headers}, {@code cookies}, as a function URL reads it. The body that follows is the
   * stream; a content type is not assumed for it.
   */
  static HttpAnswer prelude(byte[] json) throws MalformedException {
    Object value;
    try {
      value = json.length == 0 ? Map.of() : Json.parse(json);
    } catch (Json.SyntaxException e) {
      throw new MalformedException("the prelude is not JSON (" + e.getMessage() + ")");
    }
    if (!(value instanceof Map<?, ?> m)) {
      throw new MalformedException("the prelude is not a JSON object");
    }
    Map<Object, Object> head = new java.util.LinkedHashMap<>(m);
    head.putIfAbsent("statusCode", 200L);
    head.remove("body");
    return proxy(head, true);
  }

  private static HttpAnswer proxy(Map<?, ?> m, boolean v2) throws MalformedException {
    int status = status(m.get("statusCode"));
    Headers.Builder headers = Headers.builder();
    if (m.get("headers") instanceof Map<?, ?> h) {
      for (Map.Entry<?, ?> e : h.entrySet()) {
        headers.add(String.valueOf(e.getKey()), scalar("headers", e.getValue()));
      }
    } else if (!Json.absent(m.get("headers"))) {
      throw new MalformedException("its \"headers\" is not an object");
    }
    if (m.get("multiValueHeaders") instanceof Map<?, ?> h) {
      for (Map.Entry<?, ?> e : h.entrySet()) {
        String name = String.valueOf(e.getKey());
        if (!(e.getValue() instanceof List<?> values)) {
          throw new MalformedException("its multiValueHeaders \"" + name + "\" is not a list");
        }
        headers.remove(name); // both given: API Gateway merges, the lists winning
        for (Object v : values) {
          headers.add(name, scalar("multiValueHeaders", v));
        }
      }
    }
    if (v2 && m.get("cookies") instanceof List<?> cookies) {
      for (Object c : cookies) {
        headers.add("set-cookie", scalar("cookies", c));
      }
    }
    byte[] body = body(m);
    Headers built = headers.build();
    String invalid = HttpSyntax.invalidField(built);
    if (invalid != null) {
      throw new MalformedException("its response has " + invalid);
    }
    built = HttpSyntax.endToEnd(built);
    if (built.get("content-type") == null && body.length > 0) {
      built = built.toBuilder().add("content-type", JSON).build();
    }
    return new HttpAnswer(status, built, body);
  }

  private static int status(Object code) throws MalformedException {
    int status = -1;
    if (code instanceof Long l && l >= 100 && l <= 599) {
      status = l.intValue();
    } else if (code instanceof String s && s.matches("[1-5][0-9][0-9]")) {
      status = Integer.parseInt(s);
    }
    if (status < 0 || !HttpSyntax.isValidFinalStatus(status)) {
      throw new MalformedException("its statusCode " + Json.write(code) + " is not an HTTP status");
    }
    return status;
  }

  private static String scalar(String field, Object v) throws MalformedException {
    if (v instanceof String s) {
      return s;
    }
    if (v instanceof Long || v instanceof Double || v instanceof Boolean) {
      return String.valueOf(v);
    }
    throw new MalformedException("its " + field + " hold a value that is not a string: " + v);
  }

  private static byte[] body(Map<?, ?> m) throws MalformedException {
    Object b = m.get("body");
    if (Json.absent(b)) {
      return new byte[0];
    }
    if (!(b instanceof String s)) {
      throw new MalformedException("its \"body\" is not a string");
    }
    if (Boolean.TRUE.equals(m.get("isBase64Encoded"))) {
      try {
        return Base64.getDecoder().decode(s);
      } catch (IllegalArgumentException e) {
        throw new MalformedException("its body is marked isBase64Encoded but is not base64");
      }
    }
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
