package dev.locallambdas.exchange;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Where a transport writes a function's response, piece by piece. Calls come from one thread in
 * order: {@link #head} once, {@link #body} any number of times, then {@link #end}. {@code body}
 * blocks while the client is slow (backpressure) and throws when the client has gone.
 */
public interface ResponseSink {
  /**
   * Starts the response. {@code contentLength} is the body size when known, -1 otherwise. The
   * headers must not contain framing fields (content-length, transfer-encoding) or hop-by-hop
   * fields; the sink frames the response itself.
   */
  void head(int status, Headers headers, long contentLength) throws IOException;

  /** A chunk of the body; the sink copies what it keeps, the caller may reuse the buffer. */
  void body(ByteBuffer chunk) throws IOException;

  /** The response is complete. */
  void end() throws IOException;

  /** True once {@link #head} was called: from then on an error can only abort the connection. */
  boolean committed();
}
