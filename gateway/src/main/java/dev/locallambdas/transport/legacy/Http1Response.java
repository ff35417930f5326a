package dev.locallambdas.transport.legacy;

import dev.locallambdas.exchange.Headers;
import dev.locallambdas.transport.TransportException;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * A response being read from an {@link Http1Connection}. The body is read with {@link #read} until
 * it returns null; {@link #close} then returns a reusable connection to its pool, and discards it
 * in every other case (body not fully read, Connection: close, read-until-close framing).
 */
final class Http1Response implements AutoCloseable {
  enum Framing {
    NONE,
    LENGTH,
    CHUNKED,
    UNTIL_CLOSE
  }

  /** A validated response head and how its body is framed. */
  record Head(
      int status, Headers headers, Framing framing, long contentLength, boolean keepAlive) {}

  private final Http1Client client;
  private final Http1Connection connection;
  private final Head head;
  private long remaining; // bytes left in the body (LENGTH) or in the current chunk (CHUNKED)
  private boolean inChunk;
  private boolean finished;
  private boolean closed;

  Http1Response(Http1Client client, Http1Connection connection, Head head) {
    this.client = client;
    this.connection = connection;
    this.head = head;
    this.remaining = head.framing() == Framing.LENGTH ? head.contentLength() : 0;
    this.finished = head.framing() == Framing.NONE;
  }

  int status() {
    return head.status();
  }

  /**
   * The fields as received (validated, names lower case), framing and hop-by-hop fields included.
   */
  Headers headers() {
    return head.headers();
  }

  /**
   * The Content-Length the child declared, -1 when none. For a HEAD answer it is the size a GET
   * would have had, while {@link #contentLength} is 0.
   */
  long declaredLength() {
    return head.contentLength();
  }

  /** The number of body bytes {@link #read} delivers, when known; -1 otherwise. */
  long contentLength() {
    return switch (head.framing()) {
      case NONE -> 0;
      case LENGTH -> head.contentLength();
      case CHUNKED, UNTIL_CLOSE -> -1;
    };
  }

  /**
   * The next piece of the body as a view valid until the next call, or null at its end. Throws
   * CHILD_FAILED when the connection ends early and PROTOCOL on bad chunk framing.
   */
  ByteBuffer read() throws IOException {
    if (finished) {
      return null;
    }
    return switch (head.framing()) {
      case LENGTH -> readDeclaredLength();
      case CHUNKED -> readChunked();
      case UNTIL_CLOSE -> readUntilClose();
      default -> {
        finished = true;
        yield null;
      }
    };
  }

  private ByteBuffer readDeclaredLength() throws IOException {
    if (remaining == 0) {
      finished = true;
      return null;
    }
    ByteBuffer b = connection.readSome(remaining);
    if (b == null) {
      throw new TransportException(
          TransportException.Kind.CHILD_FAILED,
          connection.peer()
              + " closed the connection after "
              + (head.contentLength() - remaining)
              + " of "
              + head.contentLength()
              + " body bytes");
    }
    remaining -= b.remaining();
    return b;
  }

  private ByteBuffer readChunked() throws IOException {
    if (remaining == 0) {
      if (inChunk) {
        connection.readChunkEnd();
        inChunk = false;
      }
      long size = connection.readChunkSize();
      if (size == 0) {
        connection.readTrailers();
        finished = true;
        return null;
      }
      remaining = size;
      inChunk = true;
    }
    ByteBuffer b = connection.readSome(remaining);
    if (b == null) {
      throw new TransportException(
          TransportException.Kind.CHILD_FAILED,
          connection.peer() + " closed the connection in the middle of a chunked body");
    }
    remaining -= b.remaining();
    return b;
  }

  private ByteBuffer readUntilClose() throws IOException {
    ByteBuffer b = connection.readSome(Long.MAX_VALUE);
    if (b == null) {
      finished = true;
    }
    return b;
  }

  /** Reads the whole body, refusing more than {@code limit} bytes with PROTOCOL. */
  byte[] readAll(int limit) throws IOException {
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    for (ByteBuffer b = read(); b != null; b = read()) {
      if (out.size() + (long) b.remaining() > limit) {
        throw connection.protocol("sent a body larger than " + limit + " bytes");
      }
      byte[] bytes = new byte[b.remaining()];
      b.get(bytes);
      out.writeBytes(bytes);
    }
    return out.toByteArray();
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    if (finished && head.keepAlive()) {
      client.release(connection);
    } else {
      client.discard(connection);
    }
  }
}
