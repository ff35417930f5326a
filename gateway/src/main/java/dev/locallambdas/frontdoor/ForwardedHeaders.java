package dev.locallambdas.frontdoor;

import dev.locallambdas.exchange.Headers;
import io.netty.handler.codec.http.HttpHeaders;
import java.util.HashSet;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Turns the client's headers into the headers a function sees: hop-by-hop fields (RFC 9110 7.6.1),
 * including every field the client names in Connection, are removed first; framing fields go
 * because each transport frames the body itself; so do every X-Forwarded-* field, Forwarded and
 * X-Real-IP the client sent, and the gateway sets its own X-Forwarded-For, -Proto and -Host (a
 * client must not be able to forge its address, or the host or prefix a function trusts).
 */
final class ForwardedHeaders {
  private static final Set<String> HOP_BY_HOP =
      Set.of(
          "connection",
          "keep-alive",
          "proxy-connection",
          "te",
          "trailer",
          "transfer-encoding",
          "upgrade",
          "content-length",
          "expect",
          "forwarded",
          "x-real-ip");

  private ForwardedHeaders() {}

  static Headers forFunction(HttpHeaders in, String clientIp, String host) {
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
      if (HOP_BY_HOP.contains(name)
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
    return out.build();
  }
}
