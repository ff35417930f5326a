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

  /** The length of the body that follows the head: 0 none, -1 unknown (chunked). */
  public long bodyLength() {
    return body.length();
  }

  /** True when a body follows the head. */
  public boolean hasBody() {
    return bodyLength() != 0;
  }

  /** Path and query as sent on the wire, e.g. "/api/x?y=1". */
  public String target() {
    return query == null ? path : path + "?" + query;
  }
}
