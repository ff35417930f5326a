package dev.locallambdas.exchange;

import java.util.Objects;

/**
 * A request as the gateway forwards it: the canonical path (the one that was routed), the raw query
 * (without '?', null when absent), headers already cleaned of hop-by-hop fields and carrying the
 * X-Forwarded-* fields, and the length of the body that follows the head (0: none, -1: unknown, it
 * arrives chunked). The body itself reaches a transport piece by piece, through its call.
 */
public record Request(
    String method,
    String path,
    String query,
    Headers headers,
    long bodyLength,
    String clientAddress) {
  public Request {
    Objects.requireNonNull(method, "method");
    Objects.requireNonNull(path, "path");
    Objects.requireNonNull(headers, "headers");
  }

  /** True when a body follows the head. */
  public boolean hasBody() {
    return bodyLength != 0;
  }

  /** Path and query as sent on the wire, e.g. "/api/x?y=1". */
  public String target() {
    return query == null ? path : path + "?" + query;
  }
}
