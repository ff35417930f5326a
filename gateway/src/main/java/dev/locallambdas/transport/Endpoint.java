package dev.locallambdas.transport;

import dev.locallambdas.exchange.Request;
import io.netty.channel.EventLoop;
import java.io.IOException;
import java.time.Duration;
import java.util.Map;

/**
 * The gateway's side of the channel to one instance of a function. Created before the instance's
 * process starts (so the child can be told its address), then made ready, then used for calls, then
 * closed.
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
   * descendants let an HTTP endpoint check that the port it polls is really the child's). Called on
   * a virtual thread: starting is slow by nature.
   */
  void awaitReady(Duration timeout, ProcessHandle process) throws IOException, InterruptedException;

  /**
   * The event loop this instance's connection lives on, or null when the endpoint serves every loop
   * equally (an HTTP child gets a connection pool per loop). The instance pool prefers an instance
   * on the caller's loop, so that a request never changes threads.
   */
  EventLoop loop();

  /**
   * Starts one request, on {@code loop} (the client connection's event loop, the current thread).
   * {@code timeoutMillis} is the time the request has left (0: none); protocols that can carry it
   * tell the child. The endpoint never calls {@code listener} from inside this method: a failure it
   * finds at once is reported on a later turn of the loop. At most the function's concurrency calls
   * are open at once (the instance pool sees to that).
   */
  Call open(Request request, long timeoutMillis, EventLoop loop, CallListener listener);

  /**
   * A line the instance's process wrote to stdout or stderr, on the thread draining it (so quick).
   * Most endpoints ignore it; a Lambda environment keeps it for the Invoke API's log tail.
   */
  default void output(String line) {}

  /**
   * Opens a raw connection to the instance on {@code loop} for a protocol upgrade (a WebSocket
   * after the child's 101), with {@code handler} as its only handler and reading off until the
   * caller asks; null where the transport cannot carry one (only an HTTP child can).
   */
  default io.netty.channel.ChannelFuture tunnel(
      EventLoop loop, io.netty.channel.ChannelHandler handler) {
    return null;
  }

  /**
   * Closes connections and removes socket files. Idempotent. Calls in progress fail with
   * TransportException(CHILD_FAILED) and are released as {@link Outcome#BROKEN}.
   */
  @Override
  void close();
}
