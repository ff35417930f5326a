package dev.locallambdas.frontdoor;

import dev.locallambdas.exchange.Headers;
import dev.locallambdas.exchange.HttpSyntax;
import io.netty.handler.codec.http.HttpHeaders;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Turns the client's headers into the headers a function sees: hop-by-hop and framing fields
 * ({@link HttpSyntax}), including every field the client names in Connection, are removed first; so
 * are Expect, every X-Forwarded-* field, Forwarded and X-Real-IP the client sent, and the gateway
 * sets its own X-Forwarded-For, -Proto and -Host (a client must not be able to forge its address,
 * or the host or prefix a function trusts). From a trusted proxy ({@link TrustedProxies}) the
 * forwarding fields are kept and extended instead: its address is appended to X-Forwarded-For and,
 * when it sent one, to Forwarded; its X-Forwarded-Proto and -Host stand. Every request carries an
 * X-Request-Id: the client's when it sent a sane one, else a fresh one, so one request can be
 * followed from the client to the function's log.
 */
final class ForwardedHeaders {
  static final String REQUEST_ID = "x-request-id";

  /** Request fields that never reach a function besides the hop-by-hop ones. */
  private static final Set<String> REPLACED = Set.of("expect", "forwarded", "x-real-ip");

  private ForwardedHeaders() {}

  /** The client's X-Request-Id when it is a sane token (1-200 visible ASCII), else a new one. */
  static String requestId(HttpHeaders in) {
    String id = in.get(REQUEST_ID);
    if (id != null && !id.isEmpty() && id.length() <= 200) {
      boolean sane = true;
      for (int i = 0; i < id.length() && sane; i++) {
        char c = id.charAt(i);
        sane = c > 0x20 && c < 0x7f && c != '"' && c != '\\';
      }
      if (sane) {
        return id;
      }
    }
    return HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextLong());
  }

  static Headers forFunction(HttpHeaders in, String clientIp, String host, String requestId) {
    return forFunction(in, clientIp, host, requestId, false);
  }

  /**
   * As above; with {@code trusted} (the peer is a trusted proxy) the forwarding fields it sent are
   * kept and extended with its own hop.
   */
  static Headers forFunction(
      HttpHeaders in, String clientIp, String host, String requestId, boolean trusted) {
    return forFunction(in, clientIp, host, requestId, trusted, "http");
  }

  /** As above, for a client that reached the gateway over {@code proto} (http or https). */
  static Headers forFunction(
      HttpHeaders in,
      String clientIp,
      String host,
      String requestId,
      boolean trusted,
      String proto) {
    Set<String> named = null;
    for (String connection : in.getAll("connection")) {
      for (String token : connection.split(",", -1)) {
        String t = token.trim().toLowerCase(Locale.ROOT);
        if (!t.isEmpty()) {
          if (named == null) {
            named = new HashSet<>();
          }
          named.add(t);
        }
      }
    }
    Headers.Builder out = Headers.builder();
    for (Map.Entry<String, String> e : in) {
      String name = e.getKey().toLowerCase(Locale.ROOT);
      if (HttpSyntax.isHopByHop(name)
          || name.equals(REQUEST_ID)
          || (named != null && named.contains(name))) {
        continue;
      }
      if (isForwarding(name)) {
        if (!trusted || name.equals("expect")) {
          continue;
        }
        if (name.equals("x-forwarded-for") || name.equals("forwarded")) {
          continue; // joined and extended below
        }
      }
      out.add(name, e.getValue());
    }
    String forwardedFor = trusted ? joined(in, "x-forwarded-for") : null;
    if (clientIp != null) {
      out.add("x-forwarded-for", forwardedFor == null ? clientIp : forwardedFor + ", " + clientIp);
    } else if (forwardedFor != null) {
      out.add("x-forwarded-for", forwardedFor);
    }
    if (!trusted || !in.contains("x-forwarded-proto")) {
      out.add("x-forwarded-proto", proto);
    }
    if (host != null && (!trusted || !in.contains("x-forwarded-host"))) {
      out.add("x-forwarded-host", host);
    }
    String forwarded = trusted ? joined(in, "forwarded") : null;
    if (forwarded != null) {
      out.add("forwarded", forwarded + ", " + forwardedElement(clientIp, host, proto));
    }
    out.add(REQUEST_ID, requestId);
    return out.build();
  }

  private static boolean isForwarding(String name) {
    return REPLACED.contains(name) || name.startsWith("x-forwarded-");
  }

  /** Every line of a list-valued field, joined as one list; null when there is none. */
  private static String joined(HttpHeaders in, String name) {
    List<String> all = in.getAll(name);
    if (all.isEmpty()) {
      return null;
    }
    return String.join(", ", all);
  }

  /** This hop as an RFC 7239 forwarded-element. */
  private static String forwardedElement(String clientIp, String host, String proto) {
    StringBuilder b = new StringBuilder();
    if (clientIp != null) {
      b.append("for=");
      if (clientIp.indexOf(':') >= 0) {
        b.append("\"[").append(clientIp).append("]\"");
      } else {
        b.append(clientIp);
      }
      b.append(';');
    }
    b.append("proto=").append(proto);
    if (host != null) {
      b.append(";host=\"");
      for (int i = 0; i < host.length(); i++) {
        char c = host.charAt(i);
        if (c == '"' || c == '\\') {
          b.append('\\');
        }
        b.append(c);
      }
      b.append('"');
    }
    return b.toString();
  }
}
