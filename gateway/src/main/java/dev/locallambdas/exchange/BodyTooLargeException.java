package dev.locallambdas.exchange;

import java.io.IOException;

/** The request body grew past the function's max_body_size while it was being read. */
public final class BodyTooLargeException extends IOException {
  private static final long serialVersionUID = 1L;
  private final long limit;

  public BodyTooLargeException(long limit) {
    super("request body is larger than the limit of " + limit + " bytes");
    this.limit = limit;
  }

  public long limit() {
    return limit;
  }
}
