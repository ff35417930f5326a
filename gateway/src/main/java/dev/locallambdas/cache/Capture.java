package dev.locallambdas.cache;

import dev.locallambdas.exchange.Headers;
import io.netty.buffer.ByteBuf;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * What the cache does with one forwarded response: adds X-Cache to its head and, for a miss, copies
 * status, fields and body (up to the function's entry limit) to store them when the response ends.
 * The copy is given up at once when the response cannot be stored, so large or uncacheable
 * responses cost nothing beyond the pass-through. The body passes through untouched (the copy reads
 * without consuming).
 */
public final class Capture {
  private final Lookup.Forward forward;
  private boolean capturing;
  private int status;
  private Headers headers;
  private byte[] buffer;
  private int size;

  Capture(Lookup.Forward forward) {
    this.forward = forward;
    this.capturing = forward.capturing();
  }

  /** The head the client gets: the function's, with X-Cache. */
  public Headers head(int status, Headers headers, long contentLength) {
    long limit = forward.maxEntryBytes();
    if (capturing) {
      if (!Policy.mayStore(status) || contentLength > limit || headers.get("set-cookie") != null) {
        capturing = false;
      } else {
        this.status = status;
        this.headers = headers;
        buffer = new byte[(int) (contentLength >= 0 ? contentLength : Math.min(limit, 8192))];
      }
    }
    if (forward.invalidates() && status >= 200 && status < 400) {
      // RFC 9111 section 4.4: a successful unsafe request invalidates what is stored for its URL.
      forward.invalidateTarget();
    }
    return headers.toBuilder().set("x-cache", forward.xCache()).build();
  }

  /** A piece of the body, read without consuming it. */
  public void body(ByteBuf chunk) {
    int n = chunk.readableBytes();
    if (room(n)) {
      chunk.getBytes(chunk.readerIndex(), buffer, size, n);
      size += n;
    }
  }

  /** A piece of the body, read without consuming it. */
  public void body(ByteBuffer chunk) {
    int n = chunk.remaining();
    if (room(n)) {
      chunk.get(chunk.position(), buffer, size, n);
      size += n;
    }
  }

  private boolean room(int n) {
    if (!capturing) {
      return false;
    }
    long limit = forward.maxEntryBytes();
    if ((long) size + n > limit) {
      capturing = false;
      buffer = null;
      return false;
    }
    if (size + n > buffer.length) {
      buffer = Arrays.copyOf(buffer, (int) Math.min(limit, Math.max(size + n, 2L * buffer.length)));
    }
    return true;
  }

  /**
   * The function's response is complete (even when the client has gone: it can still be stored).
   */
  public void end() {
    if (capturing) {
      capturing = false;
      byte[] body = size == buffer.length ? buffer : Arrays.copyOf(buffer, size);
      buffer = null;
      forward.completed(status, headers, body);
    }
    forward.done();
  }

  /** The request is over, however it ended; lets requests waiting for this one proceed. */
  public void done() {
    capturing = false;
    buffer = null;
    forward.done();
  }
}
