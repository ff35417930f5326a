package dev.locallambdas.sdk;

/**
 * Answers one request. With a concurrency above 1 the gateway may call it from several threads at
 * once, so a handler shared between requests must be thread-safe.
 */
@FunctionalInterface
public interface Handler {

  /**
   * Returns the response to {@code request}. An exception becomes a {@code 500} response (the stack
   * trace goes to stderr), or aborts the response if its head was already sent.
   */
  Response handle(Request request) throws Exception;
}
