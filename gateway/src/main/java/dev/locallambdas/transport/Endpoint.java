package dev.locallambdas.transport;

import dev.locallambdas.exchange.Request;
import dev.locallambdas.exchange.ResponseSink;
import java.io.IOException;
import java.time.Duration;
import java.util.Map;

/**
 * The gateway's side of the channel to one instance of a function. Created before the instance's
 * process starts (so the child can be told its address), then made ready, then used for exchanges,
 * then closed. {@link #exchange} may be called by up to the function's concurrency threads at once.
 */
public interface Endpoint extends AutoCloseable {
  /**
   * Variables the child needs to find this endpoint, e.g. PIPE_ADDRESS or HTTP_ADDRESS and PORT.
   */
  Map<String, String> environment();

  /**
   * Blocks until the child is ready to serve, as signalled by the child (a HELLO, an accepted
   * connection) rather than guessed. Throws {@link TransportException} of kind NOT_READY when the
   * timeout passes or the process exits first. {@code process} is the child (its pid and
   * descendants let an HTTP endpoint check that the port it polls is really the child's).
   */
  void awaitReady(Duration timeout, ProcessHandle process) throws IOException, InterruptedException;

  /**
   * Sends one request and streams the response into {@code sink}. Throws TransportException for
   * child-side failures, and passes on the sink's and the body's own exceptions (client gone, body
   * too large). When the calling thread is interrupted (timeout, client gone) the exchange stops,
   * tells the child where the protocol allows, and throws {@link java.io.InterruptedIOException}.
   */
  void exchange(Request request, ResponseSink sink) throws IOException;

  /**
   * Closes connections and removes socket files. Idempotent. Exchanges in progress fail with
   * TransportException(CHILD_FAILED) or InterruptedIOException.
   */
  @Override
  void close();
}
