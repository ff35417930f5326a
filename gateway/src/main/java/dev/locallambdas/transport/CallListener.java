package dev.locallambdas.transport;

import dev.locallambdas.exchange.Headers;
import io.netty.buffer.ByteBuf;

/**
 * The front door's side of a {@link Call}. Every method is called on the event loop the call was
 * opened for, never from inside {@link Endpoint#open} itself, and never after {@link #released}.
 *
 * <p>The response events come in the order {@code head, body*, end}, or {@code failed} at any point
 * instead of what remains; none come after {@link Call#cancel}. {@link #released} comes exactly
 * once, last: the instance no longer works on this request and its slot can be used again. For a
 * response that ends normally it follows {@code end} at once; after a cancellation it comes when
 * the instance has let go (a child speaking pipe protocol 1.1 acknowledges the cancellation).
 */
public interface CallListener {
  /**
   * The response head. {@code contentLength} is the body length when known, -1 otherwise. The
   * headers contain no framing (content-length, transfer-encoding) or hop-by-hop fields.
   */
  void head(int status, Headers headers, long contentLength);

  /** A piece of the response body; ownership passes to the listener. */
  void body(ByteBuf content);

  /** The response is complete. */
  void end();

  /**
   * The call failed: before the head (the front door answers with a problem) or after it (the
   * response is cut off). {@code cause.kind()} says whose fault it was.
   */
  void failed(TransportException cause);

  /**
   * Request body flow control: false while the call cannot take more body (the child is slow, its
   * window is exhausted), true when it can again. Starts true.
   */
  void bodyWritable(boolean writable);

  /** The instance is done with this request; see the class comment. */
  void released(Outcome outcome);
}
