package dev.locallambdas.bench.frontdoor;

import java.nio.charset.StandardCharsets;

/** The one response every candidate sends. */
final class Hello {
  static final String HOST = "127.0.0.1";
  static final byte[] BODY = "hello\n".getBytes(StandardCharsets.US_ASCII);
  static final String CONTENT_TYPE = "text/plain";

  private Hello() {}
}
