package dev.locallambdas.sdk;

/**
 * Answers one request. With a concurrency above 1 the gateway may call it from several threads at
 * once, so a handler shared between requests must be thread-safe.
 */
@FunctionalInterface
public interface Handler {

  /**
   * Returns the response to {@code request}. An exception becomes a {@code 500} response (the stack
   * trace goes to stderr), or aborts the response if its head was already sent. If the gateway
   * cancels the request meanwhile, whatever this returns or throws is dropped, and with protocol
   * 1.1 the gateway learns that the request is over when this method has returned (see {@link
   * Request#remainingMillis()} for its deadline).
   */
  Response handle(Request request) throws Exception;
}
