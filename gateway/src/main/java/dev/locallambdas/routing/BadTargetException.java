package dev.locallambdas.routing;

/**
 * A request target that cannot be canonicalised. The message says what is wrong and where (an index
 * into the raw target); it is meant to be shown to the client as the detail of a 400 response, so
 * it never echoes control characters or non-ASCII input.
 *
 * <p>It carries no stack trace: it reports a client's mistake, not a fault of the gateway, and a
 * client sending junk targets in a loop should not make the gateway walk its stack each time.
 */
public final class BadTargetException extends Exception {
  private static final long serialVersionUID = 1L;

  public BadTargetException(String message) {
    super(message, null, false, false);
  }
}
