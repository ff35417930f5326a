package dev.locallambdas.frontdoor;

import io.netty.handler.codec.DateFormatter;
import java.util.Date;

/**
 * The Date field value for responses (RFC 9110 section 6.6.1: an origin server with a clock sends
 * one, and a proxy adds one to a response that has none). Formatted at most once a second.
 */
final class HttpDate {
  private static volatile Cached cached = new Cached(0, "");

  private record Cached(long second, String value) {}

  private HttpDate() {}

  // Netty's DateFormatter (RFC 1123 without java.time's allocation) takes a java.util.Date.
  @SuppressWarnings("JavaUtilDate")
  static String now() {
    long millis = System.currentTimeMillis();
    long second = millis / 1000;
    Cached c = cached;
    if (c.second != second) {
      c = new Cached(second, DateFormatter.format(new Date(second * 1000)));
      cached = c;
    }
    return c.value;
  }
}
