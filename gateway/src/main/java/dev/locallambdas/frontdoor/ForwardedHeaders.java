package dev.locallambdas.frontdoor;

import dev.locallambdas.exchange.Headers;
import dev.locallambdas.exchange.HttpSyntax;
import io.netty.handler.codec.http.HttpHeaders;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Turns the client's headers into the headers a function sees: hop-by-hop and framing fields
 * ({@link HttpSyntax}), including every field the client names in Connection, are removed first; so
 * are Expect, every X-Forwarded-* field, Forwarded and X-Real-IP the client sent, and the gateway
 * sets its own X-Forwarded-For, -Proto and -Host (a client must not be able to forge its address,
 * or the host or prefix a function trusts). Every request carries an X-Request-Id: the client's
 * when it sent a sane one, else a fresh one, so one request can be followed from the client to the
 * function's log.
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
          || REPLACED.contains(name)
          || name.equals(REQUEST_ID)
          || name.startsWith("x-forwarded-")
          || (named != null && named.contains(name))) {
        continue;
      }
      out.add(name, e.getValue());
    }
    if (clientIp != null) {
      out.add("x-forwarded-for", clientIp);
    }
    out.add("x-forwarded-proto", "http");
    if (host != null) {
      out.add("x-forwarded-host", host);
    }
    out.add(REQUEST_ID, requestId);
    return out.build();
  }
}
