package dev.locallambdas.transport.legacy;

import dev.locallambdas.exchange.BodySource;
import dev.locallambdas.exchange.BodyTooLargeException;
import dev.locallambdas.exchange.Headers;
import dev.locallambdas.exchange.HttpSyntax;
import dev.locallambdas.exchange.Request;
import dev.locallambdas.json.Json;
import dev.locallambdas.transport.TransportException;
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
  @SuppressWarnings("ArrayRecordComponent") // decoded once, handed to the sink, never compared
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
   * Decodes an answer the way the original local_lambdas did (ADR 0007): a status that is missing
   * or not an HTTP status means 200, headers that are not strings are dropped, a body that is not
   * base64 is empty, and JSON that is not an object is an empty 200. Where the original passed on
   * something HTTP cannot carry, the closest safe answer is given instead: 500 for statuses 600-999
   * (which a client must treat as a server error) and for 1xx (which the original's server turned
   * into an empty 500). Each oddity is reported to {@code log}.
   *
   * <p>Only an answer that cannot be relayed at all throws: text that is not JSON, or a header
   * whose name or value HTTP cannot carry (the original answered 500 to those). The exchange itself
   * was complete and the child is still serving, so the exception is of a kind that leaves the
   * instance running (an answer is never a reason to restart a child).
   */
  static Answer answer(byte[] json, String who, LegacyAnswerLog log) throws TransportException {
    Object parsed;
    try {
      parsed = Json.parse(json);
    } catch (Json.SyntaxException e) {
      throw log.refuse(
          "not-json",
          who
              + " answered something that is not JSON ("
              + e.getMessage()
              + "): the original protocol's answer is one JSON object"
              + " {\"status\", \"headers\", \"body\"}");
    }
    if (!(parsed instanceof Map<?, ?> message)) {
      log.relayed(
          "answer-type",
          who
              + " answered a JSON "
              + kind(parsed)
              + " instead of an object: the client got 200 with no headers and an empty body, as"
              + " from the original local_lambdas");
      return new Answer(200, Headers.empty(), new byte[0]);
    }
    int status = status(message.get("status"), who, log);
    Headers headers = headers(message.get("headers"), who, log);
    byte[] body = body(message.get("body"), who, log);
    if (status >= 100 && status < 200) {
      log.relayed(
          "status-1xx",
          who
              + " answered status "
              + status
              + ", an informational status that cannot end an exchange: the client got 500"
              + " without the answer's headers and body, as from the original local_lambdas");
      return new Answer(500, Headers.empty(), new byte[0]);
    }
    return new Answer(status, headers, body);
  }

  private static int status(Object s, String who, LegacyAnswerLog log) {
    if (Json.absent(s)) {
      return 200;
    }
    if (!(s instanceof Long n)) {
      // serde_json's as_u64() is None for anything but a non-negative integer; the original
      // then answered 200.
      log.relayed(
          "status-type",
          who
              + " answered \"status\": "
              + HttpSyntax.printable(Json.write(s))
              + ", a JSON "
              + kind(s)
              + " instead of a number: the client got 200, as from the original local_lambdas"
              + (s instanceof String str && str.strip().matches("[0-9]{3}")
                  ? " (write \"status\": " + str.strip() + ")"
                  : ""));
      return 200;
    }
    if (n < 100 || n > 999) {
      // The original's StatusCode::from_u16 refused these and it fell back to 200. (It first
      // truncated the number to 16 bits, so 65736 became 200; that accident is not copied.)
      log.relayed(
          "status-range",
          who
              + " answered status "
              + n
              + ", which is not an HTTP status: the client got 200, as from the original"
              + " local_lambdas");
      return 200;
    }
    if (n >= 600) {
      log.relayed(
          "status-600-999",
          who
              + " answered status "
              + n
              + ", beyond HTTP's 100-599: the client got 500 with the answer's headers and body"
              + " (the original sent "
              + n
              + " on, which a client must treat as a server error, RFC 9110 section 15)");
      return 500;
    }
    return n.intValue();
  }

  private static Headers headers(Object h, String who, LegacyAnswerLog log)
      throws TransportException {
    if (Json.absent(h)) {
      return Headers.empty();
    }
    if (!(h instanceof Map<?, ?> map)) {
      log.relayed(
          "headers-type",
          who
              + " answered \"headers\" as a JSON "
              + kind(h)
              + " instead of an object: no headers were relayed, as by the original local_lambdas");
      return Headers.empty();
    }
    Headers.Builder fields = Headers.builder();
    for (Map.Entry<?, ?> e : map.entrySet()) {
      String name = (String) e.getKey();
      List<String> values;
      if (e.getValue() instanceof String v) {
        values = List.of(v);
      } else if (e.getValue() instanceof List<?> list
          && !list.isEmpty()
          && list.stream().allMatch(String.class::isInstance)) {
        // Not in the original (it dropped arrays): a list of strings is the field repeated, the
        // only way to send two Set-Cookie fields.
        values = list.stream().map(String.class::cast).toList();
      } else {
        log.relayed(
            "header-type",
            who
                + " answered header '"
                + HttpSyntax.printable(name)
                + "' with a JSON "
                + kind(e.getValue())
                + " instead of a string: the header was dropped, as by the original local_lambdas");
        continue;
      }
      if (!HttpSyntax.isToken(name)) {
        throw log.refuse(
            "header-name",
            who
                + " answered a header named '"
                + HttpSyntax.printable(name)
                + "', which is not a valid HTTP field name (the original local_lambdas answered"
                + " 500)");
      }
      for (String v : values) {
        if (!HttpSyntax.isValidValue(v)) {
          throw log.refuse(
              "header-value",
              who
                  + " answered header '"
                  + name
                  + "' with a control character in its value, which HTTP cannot carry (the"
                  + " original local_lambdas answered 500)");
        }
        fields.add(name, v);
      }
    }
    Headers headers = fields.build();
    return HttpSyntax.endToEnd(headers);
  }

  private static byte[] body(Object b, String who, LegacyAnswerLog log) {
    if (Json.absent(b)) {
      return new byte[0];
    }
    if (!(b instanceof String b64)) {
      log.relayed(
          "body-type",
          who
              + " answered \"body\" as a JSON "
              + kind(b)
              + " instead of a base64 string: the client got an empty body, as from the original"
              + " local_lambdas");
      return new byte[0];
    }
    try {
      return Base64.getDecoder().decode(b64);
    } catch (IllegalArgumentException e) {
      log.relayed(
          "body-base64",
          who
              + " answered a \"body\" that is not valid base64 ("
              + e.getMessage()
              + "): the client got an empty body, as from the original local_lambdas");
      return new byte[0];
    }
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
    return Json.absent(v) ? "null" : v instanceof Boolean ? "boolean" : "number";
  }
}
