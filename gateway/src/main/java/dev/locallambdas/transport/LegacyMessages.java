package dev.locallambdas.transport;

import dev.locallambdas.exchange.HttpSyntax;

import dev.locallambdas.exchange.BodySource;
import dev.locallambdas.exchange.BodyTooLargeException;
import dev.locallambdas.exchange.Headers;
import dev.locallambdas.exchange.Request;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Map;

/**
 * The JSON messages of the original local_lambdas, shared by both legacy transports: {@code
 * {"method","uri","headers":[[n,v]...],"body":base64}} (plus "query" when there is one) towards the
 * child, {@code {"status","headers":{n:v},"body":base64}} back.
 */
final class LegacyMessages {
  /** Answers beyond this size are refused rather than buffered (they are held in memory whole). */
  static final int MAX_ANSWER_BYTES = 256 * 1024 * 1024;

  /**
   * A child's decoded answer: validated status and fields, hop-by-hop and framing fields removed.
   */
  record Answer(int status, Headers headers, byte[] body) {}

  private LegacyMessages() {}

  /** Reads the whole request body; the legacy protocols carry it base64-encoded in one message. */
  static byte[] readBody(BodySource body, long limit) throws IOException {
    ByteArrayOutputStream out =
        new ByteArrayOutputStream(body.length() > 0 ? (int) Math.min(body.length(), limit) : 256);
    for (ByteBuffer b = body.next(); b != null; b = body.next()) {
      if (out.size() + (long) b.remaining() > limit) {
        throw new BodyTooLargeException(limit);
      }
      byte[] bytes = new byte[b.remaining()];
      b.get(bytes);
      out.writeBytes(bytes);
    }
    return out.toByteArray();
  }

  /** The request message; "uri" is the path only, as the original sent it. */
  static byte[] request(Request request, byte[] body) {
    StringBuilder sb = new StringBuilder(128 + body.length * 4 / 3);
    sb.append("{\"method\":");
    Json.appendString(sb, request.method());
    sb.append(",\"uri\":");
    Json.appendString(sb, request.path());
    if (request.query() != null) {
      sb.append(",\"query\":");
      Json.appendString(sb, request.query());
    }
    sb.append(",\"headers\":[");
    Headers h = request.headers();
    for (int i = 0; i < h.size(); i++) {
      if (i > 0) {
        sb.append(',');
      }
      sb.append('[');
      Json.appendString(sb, h.name(i)).append(',');
      Json.appendString(sb, h.value(i)).append(']');
    }
    sb.append("],\"body\":\"");
    sb.append(Base64.getEncoder().encodeToString(body));
    sb.append("\"}");
    return sb.toString().getBytes(StandardCharsets.US_ASCII);
  }

  /**
   * Decodes an answer. As in the original, a missing status means 200, missing headers none, and a
   * body that is not valid base64 an empty body. Anything else malformed is PROTOCOL.
   */
  static Answer answer(byte[] json, String who) throws TransportException {
    Object parsed;
    try {
      parsed = Json.parse(json);
    } catch (Json.SyntaxException e) {
      throw protocol(who + " answered with invalid JSON: " + e.getMessage());
    }
    if (!(parsed instanceof Map<?, ?> message)) {
      throw protocol(who + " answered with a JSON " + kind(parsed) + " instead of an object");
    }
    int status = 200;
    Object s = message.get("status");
    if (s != null && s != Json.NULL) {
      if (!(s instanceof Long n) || n < 200 || n > 599) {
        throw protocol(who + " answered with status " + Json.write(s) + "; expected 200-599");
      }
      status = n.intValue();
    }
    Headers.Builder fields = Headers.builder();
    Object h = message.get("headers");
    if (h instanceof Map<?, ?> map) {
      for (Map.Entry<?, ?> e : map.entrySet()) {
        String name = (String) e.getKey();
        if (e.getValue() instanceof String v) {
          fields.add(name, v);
        } else if (e.getValue() instanceof List<?> values
            && values.stream().allMatch(String.class::isInstance)) {
          values.forEach(v -> fields.add(name, (String) v));
        } else {
          throw protocol(
              who
                  + " answered header '"
                  + HttpSyntax.printable(name)
                  + "' with a non-string value");
        }
      }
    } else if (h != null && h != Json.NULL) {
      throw protocol(
          who + " answered with \"headers\" as a JSON " + kind(h) + " instead of an object");
    }
    Headers headers = fields.build();
    String invalid = HttpSyntax.invalidField(headers);
    if (invalid != null) {
      throw protocol(who + " sent " + invalid);
    }
    byte[] body = new byte[0];
    if (message.get("body") instanceof String b64) {
      try {
        body = Base64.getDecoder().decode(b64);
      } catch (IllegalArgumentException e) {
        // The original answered an empty body for a body that is not valid base64.
      }
    }
    return new Answer(status, HttpSyntax.endToEnd(headers), body);
  }

  private static String kind(Object v) {
    if (v instanceof List<?>) {
      return "array";
    }
    if (v instanceof String) {
      return "string";
    }
    if (v instanceof Map<?, ?>) {
      return "object";
    }
    return v == Json.NULL ? "null" : v instanceof Boolean ? "boolean" : "number";
  }

  private static TransportException protocol(String message) {
    return new TransportException(TransportException.Kind.PROTOCOL, message);
  }
}
