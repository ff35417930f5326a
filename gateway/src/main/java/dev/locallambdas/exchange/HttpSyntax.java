package dev.locallambdas.exchange;

import java.util.HashSet;
import java.util.Locale;
import java.util.Set;

/**
 * The HTTP/1.1 grammar rules the gateway enforces (RFC 9110/9112) and the one place that knows
 * which fields are hop-by-hop. The front door strips requests with it and the transports check and
 * strip what children send: anything failing these checks would either be rejected by the front
 * door's encoder or let one child smuggle fields into a response.
 */
public final class HttpSyntax {
  private HttpSyntax() {}

  /** Fields that describe one connection, never forwarded (RFC 9110 7.6.1), plus framing. */
  static final Set<String> HOP_BY_HOP =
      Set.of(
          "connection",
          "keep-alive",
          "proxy-connection",
          "te",
          "trailer",
          "transfer-encoding",
          "upgrade",
          "content-length");

  public static boolean isTokenChar(char c) {
    if (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
      return true;
    }
    return "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
  }

  public static boolean isToken(String s) {
    if (s.isEmpty()) {
      return false;
    }
    for (int i = 0; i < s.length(); i++) {
      if (!isTokenChar(s.charAt(i))) {
        return false;
      }
    }
    return true;
  }

  /** A field value may hold visible characters, spaces and tabs; never CR, LF, NUL or DEL. */
  public static boolean isValidValue(String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c < 0x20 && c != '\t' || c == 0x7f) {
        return false;
      }
    }
    return true;
  }

  public static boolean isValidFinalStatus(int status) {
    return status >= 200 && status <= 599;
  }

  /**
   * Null when every field has a token name and a clean value; otherwise what is wrong, for a
   * message that starts with who sent it.
   */
  public static String invalidField(Headers headers) {
    for (int i = 0; i < headers.size(); i++) {
      String name = headers.name(i);
      if (!isToken(name)) {
        return "a header with an invalid name '" + printable(name) + "'";
      }
      if (!isValidValue(headers.value(i))) {
        return "header '" + name + "' with a control character in its value";
      }
    }
    return null;
  }

  /** True when {@code name} (lower case) never passes a proxy: hop-by-hop or framing. */
  public static boolean isHopByHop(String name) {
    return HOP_BY_HOP.contains(name);
  }

  /**
   * The response fields a proxy forwards: without Connection and every field it names, the other
   * hop-by-hop fields, and Content-Length (the sink frames the body itself).
   */
  public static Headers endToEnd(Headers headers) {
    Set<String> drop = new HashSet<>(HOP_BY_HOP);
    for (String connection : headers.all("connection")) {
      for (String option : connection.split(",", -1)) {
        String o = option.strip().toLowerCase(Locale.ROOT);
        if (!o.isEmpty()) {
          drop.add(o);
        }
      }
    }
    Headers.Builder out = Headers.builder();
    for (int i = 0; i < headers.size(); i++) {
      if (!drop.contains(headers.name(i))) {
        out.add(headers.name(i), headers.value(i));
      }
    }
    return out.build();
  }

  /** True when a comma-separated field value lists {@code option} (case-insensitive). */
  public static boolean hasOption(Headers headers, String field, String option) {
    for (String value : headers.all(field)) {
      for (String part : value.split(",", -1)) {
        if (part.strip().equalsIgnoreCase(option)) {
          return true;
        }
      }
    }
    return false;
  }

  /** The text with control characters escaped, for error messages. */
  public static String printable(String s) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < s.length() && i < 200; i++) {
      char c = s.charAt(i);
      if (c < 0x20 || c == 0x7f) {
        sb.append(String.format("\\x%02x", (int) c));
      } else {
        sb.append(c);
      }
    }
    return s.length() > 200 ? sb.append("...").toString() : sb.toString();
  }
}
