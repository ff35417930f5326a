package dev.locallambdas.transport.lambda;

import dev.locallambdas.exchange.Headers;
import dev.locallambdas.exchange.Request;
import dev.locallambdas.json.Json;
import dev.locallambdas.manifest.LambdaEvent;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Turns an HTTP request into the event API Gateway would send for it: an HTTP API event (payload
 * format 2.0), a REST API proxy event (1.0), or the raw body. Field by field as AWS documents and
 * sends them, and nothing else (a field AWS never sends, such as a {@code version} in a REST event,
 * breaks strict runtimes).
 */
final class Events {
  private static final DateTimeFormatter REQUEST_TIME =
      DateTimeFormatter.ofPattern("dd/MMM/yyyy:HH:mm:ss Z", Locale.ROOT).withZone(ZoneOffset.UTC);
  private static final String API_ID = "local";
  private static final String REST_STAGE = "local";

  private Events() {}

  static byte[] build(LambdaEvent format, Request request, byte[] body, String requestId, Aws aws) {
    return switch (format) {
      case RAW -> body.length == 0 ? "{}".getBytes(StandardCharsets.US_ASCII) : body;
      case HTTP_API -> json(httpApi(request, body, requestId, aws, System.currentTimeMillis()));
      case REST_API -> json(restApi(request, body, requestId, aws, System.currentTimeMillis()));
    };
  }

  private static byte[] json(Map<String, Object> event) {
    return Json.write(event).getBytes(StandardCharsets.US_ASCII);
  }

  /** An API Gateway HTTP API event, payload format 2.0. */
  static Map<String, Object> httpApi(
      Request request, byte[] body, String requestId, Aws aws, long epochMillis) {
    Map<String, Object> e = new LinkedHashMap<>();
    e.put("version", "2.0");
    e.put("routeKey", "$default");
    e.put("rawPath", request.path());
    e.put("rawQueryString", request.query() == null ? "" : request.query());
    List<Object> cookies = cookies(request.headers());
    if (!cookies.isEmpty()) {
      e.put("cookies", cookies);
    }
    Map<String, Object> headers = new LinkedHashMap<>();
    Headers h = request.headers();
    for (int i = 0; i < h.size(); i++) {
      if (!h.name(i).equals("cookie")) {
        headers.merge(h.name(i), h.value(i), (a, b) -> a + "," + b);
      }
    }
    e.put("headers", headers);
    Map<String, List<String>> query = query(request.query());
    if (!query.isEmpty()) {
      Map<String, Object> joined = new LinkedHashMap<>();
      query.forEach((k, v) -> joined.put(k, String.join(",", v)));
      e.put("queryStringParameters", joined);
    }
    Map<String, Object> http = new LinkedHashMap<>();
    http.put("method", request.method());
    http.put("path", request.path());
    http.put("protocol", "HTTP/1.1");
    http.put("sourceIp", sourceIp(request));
    http.put("userAgent", userAgent(request));
    Map<String, Object> context = new LinkedHashMap<>();
    context.put("accountId", aws.accountId());
    context.put("apiId", API_ID);
    String domain = domain(request);
    context.put("domainName", domain);
    context.put("domainPrefix", prefix(domain));
    context.put("http", http);
    context.put("requestId", requestId);
    context.put("routeKey", "$default");
    context.put("stage", "$default");
    context.put("time", REQUEST_TIME.format(Instant.ofEpochMilli(epochMillis)));
    context.put("timeEpoch", epochMillis);
    e.put("requestContext", context);
    if (body.length > 0) {
      putBody(e, request, body);
    } else {
      e.put("isBase64Encoded", false);
    }
    return e;
  }

  /** An API Gateway REST API proxy event, payload format 1.0, for a {proxy+} resource. */
  static Map<String, Object> restApi(
      Request request, byte[] body, String requestId, Aws aws, long epochMillis) {
    Map<String, Object> e = new LinkedHashMap<>();
    e.put("resource", "/{proxy+}");
    e.put("path", request.path());
    e.put("httpMethod", request.method());
    Map<String, Object> headers = new LinkedHashMap<>();
    Map<String, Object> multiHeaders = new LinkedHashMap<>();
    Headers h = request.headers();
    for (int i = 0; i < h.size(); i++) {
      headers.put(h.name(i), h.value(i)); // the last value, as API Gateway keeps it
      multiValue(multiHeaders, h.name(i)).add(h.value(i));
    }
    e.put("headers", headers.isEmpty() ? Json.NULL : headers);
    e.put("multiValueHeaders", multiHeaders.isEmpty() ? Json.NULL : multiHeaders);
    Map<String, List<String>> query = query(request.query());
    if (query.isEmpty()) {
      e.put("queryStringParameters", Json.NULL);
      e.put("multiValueQueryStringParameters", Json.NULL);
    } else {
      Map<String, Object> single = new LinkedHashMap<>();
      Map<String, Object> multi = new LinkedHashMap<>();
      query.forEach(
          (k, v) -> {
            single.put(k, v.getLast());
            multi.put(k, new ArrayList<Object>(v));
          });
      e.put("queryStringParameters", single);
      e.put("multiValueQueryStringParameters", multi);
    }
    String proxy = request.path().length() > 1 ? request.path().substring(1) : null;
    e.put("pathParameters", proxy == null ? Json.NULL : Map.of("proxy", proxy));
    e.put("stageVariables", Json.NULL);
    Map<String, Object> identity = new LinkedHashMap<>();
    identity.put("sourceIp", sourceIp(request));
    identity.put("userAgent", userAgent(request));
    Map<String, Object> context = new LinkedHashMap<>();
    context.put("accountId", aws.accountId());
    context.put("apiId", API_ID);
    String domain = domain(request);
    context.put("domainName", domain);
    context.put("domainPrefix", prefix(domain));
    context.put("extendedRequestId", requestId);
    context.put("httpMethod", request.method());
    context.put("identity", identity);
    context.put("path", "/" + REST_STAGE + request.path());
    context.put("protocol", "HTTP/1.1");
    context.put("requestId", requestId);
    context.put("requestTime", REQUEST_TIME.format(Instant.ofEpochMilli(epochMillis)));
    context.put("requestTimeEpoch", epochMillis);
    context.put("resourceId", API_ID);
    context.put("resourcePath", "/{proxy+}");
    context.put("stage", REST_STAGE);
    e.put("requestContext", context);
    if (body.length > 0) {
      putBody(e, request, body);
    } else {
      e.put("body", Json.NULL);
      e.put("isBase64Encoded", false);
    }
    return e;
  }

  @SuppressWarnings("unchecked")
  private static List<Object> multiValue(Map<String, Object> map, String key) {
    return (List<Object>) map.computeIfAbsent(key, k -> new ArrayList<Object>());
  }

  /** A text body as a string; anything else (or text that is not UTF-8) in base64. */
  private static void putBody(Map<String, Object> e, Request request, byte[] body) {
    String text = textual(request.headers().get("content-type")) ? utf8(body) : null;
    if (text != null) {
      e.put("body", text);
      e.put("isBase64Encoded", false);
    } else {
      e.put("body", Base64.getEncoder().encodeToString(body));
      e.put("isBase64Encoded", true);
    }
  }

  static boolean textual(String contentType) {
    if (contentType == null) {
      return true; // curl -d without a type: API Gateway passes such bodies as text
    }
    String t = contentType.toLowerCase(Locale.ROOT);
    int semi = t.indexOf(';');
    if (semi >= 0) {
      t = t.substring(0, semi);
    }
    t = t.strip();
    return t.startsWith("text/")
        || t.equals("application/json")
        || t.endsWith("+json")
        || t.equals("application/xml")
        || t.endsWith("+xml")
        || t.equals("application/javascript")
        || t.equals("application/x-www-form-urlencoded")
        || t.equals("application/graphql");
  }

  private static String utf8(byte[] bytes) {
    try {
      return StandardCharsets.UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(bytes))
          .toString();
    } catch (CharacterCodingException e) {
      return null;
    }
  }

  private static List<Object> cookies(Headers headers) {
    List<Object> out = new ArrayList<>();
    for (String value : headers.all("cookie")) {
      for (String part : value.split(";", -1)) {
        String c = part.strip();
        if (!c.isEmpty()) {
          out.add(c);
        }
      }
    }
    return out;
  }

  /** Query parameters in order, percent-decoded, repeated names kept together. */
  static Map<String, List<String>> query(String query) {
    Map<String, List<String>> out = new LinkedHashMap<>();
    if (query == null || query.isEmpty()) {
      return out;
    }
    for (String pair : query.split("&", -1)) {
      if (pair.isEmpty()) {
        continue;
      }
      int eq = pair.indexOf('=');
      String name = decode(eq < 0 ? pair : pair.substring(0, eq));
      String value = eq < 0 ? "" : decode(pair.substring(eq + 1));
      out.computeIfAbsent(name, k -> new ArrayList<>()).add(value);
    }
    return out;
  }

  /** Percent-decoding as API Gateway does it ('+' stays '+'); a malformed escape stays as is. */
  static String decode(String s) {
    if (s.indexOf('%') < 0) {
      return s;
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream(s.length());
    int i = 0;
    while (i < s.length()) {
      if (s.charAt(i) == '%'
          && i + 2 < s.length()
          && hex(s.charAt(i + 1)) >= 0
          && hex(s.charAt(i + 2)) >= 0) {
        out.write(hex(s.charAt(i + 1)) * 16 + hex(s.charAt(i + 2)));
        i += 3;
      } else {
        int cp = s.codePointAt(i);
        out.writeBytes(new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8));
        i += Character.charCount(cp);
      }
    }
    String decoded = utf8(out.toByteArray());
    return decoded != null ? decoded : s;
  }

  private static int hex(char c) {
    return Character.digit(c, 16);
  }

  private static String sourceIp(Request request) {
    String ip = request.clientAddress();
    return ip == null ? "127.0.0.1" : ip;
  }

  private static String userAgent(Request request) {
    String ua = request.headers().get("user-agent");
    return ua == null ? "" : ua;
  }

  private static String domain(Request request) {
    String host = request.headers().get("host");
    if (host == null || host.isEmpty()) {
      return "localhost";
    }
    int colon = host.lastIndexOf(':');
    return colon > 0 && host.indexOf(']') < colon ? host.substring(0, colon) : host;
  }

  private static String prefix(String domain) {
    int dot = domain.indexOf('.');
    return dot > 0 ? domain.substring(0, dot) : domain;
  }
}
