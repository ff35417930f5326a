package dev.locallambdas.transport;

import io.netty.buffer.ByteBuf;

/**
 * One request in flight to a function instance, as the front door drives it. Every method is called
 * on the event loop the call was opened for (the client connection's loop); the endpoint hops to
 * its own loop when its connection lives elsewhere.
 */
public interface Call {
  /**
   * The next piece of the request body; ownership of {@code content} passes to the call. {@code
   * last} marks the end of the body (that piece may be empty). Pieces arriving after the call ended
   * or was cancelled are released and dropped.
   */
  void body(ByteBuf content, boolean last);

  /**
   * The client has consumed {@code bytes} more bytes of the response body (they were written to its
   * socket): the call may let the function send more (flow control).
   */
  void consumed(int bytes);

  /**
   * Gives up on the request: the client went away, or the request timed out. The listener then gets
   * no more response events, only {@link CallListener#released} when the instance is free again
   * (for a {@link Cancel#TIMEOUT}, with {@link Outcome#HUNG}). Idempotent; a second cancel with
   * TIMEOUT after CLIENT_GONE upgrades the cancellation (the instance did not let go in time).
   */
  void cancel(Cancel why);

  /** Why a call was given up. */
  enum Cancel {
    /** The client closed its connection or the response could not be written. */
    CLIENT_GONE,
    /** The request timeout passed: the instance is considered hung. */
    TIMEOUT
  }
}
