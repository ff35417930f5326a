package dev.locallambdas.exchange;

import java.util.Objects;

/**
 * A request as the gateway forwards it: the canonical path (the one that was routed), the raw query
 * (without '?', null when absent), headers already cleaned of hop-by-hop fields and carrying the
 * X-Forwarded-* fields, and a streaming body.
 */
public record Request(
    String method,
    String path,
    String query,
    Headers headers,
    BodySource body,
    String clientAddress) {
  public Request {
    Objects.requireNonNull(method, "method");
    Objects.requireNonNull(path, "path");
    Objects.requireNonNull(headers, "headers");
    Objects.requireNonNull(body, "body");
  }

  /** Path and query as sent on the wire, e.g. "/api/x?y=1". */
  public String target() {
    return query == null ? path : path + "?" + query;
  }
}
