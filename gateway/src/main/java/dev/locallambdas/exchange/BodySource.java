package dev.locallambdas.exchange;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * A request body read chunk by chunk, so that no layer needs a whole body in memory. Reads block
 * (callers run on virtual threads). A source is read once.
 */
public interface BodySource {
  /** The declared length in bytes, or -1 when unknown (chunked). */
  long length();

  /**
   * The next chunk, or null at the end of the body. The buffer belongs to the caller until the next
   * call. Throws when the client went away or sent more than the limit allows.
   */
  ByteBuffer next() throws IOException;

  /** A body with no bytes. */
  static BodySource empty() {
    return Bodies.EMPTY;
  }

  /** A body held in memory. */
  static BodySource of(byte[] bytes) {
    return bytes.length == 0 ? Bodies.EMPTY : new Bodies.InMemory(bytes);
  }
}
