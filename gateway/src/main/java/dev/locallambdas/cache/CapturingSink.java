package dev.locallambdas.cache;

import dev.locallambdas.exchange.Headers;
import dev.locallambdas.exchange.ResponseSink;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * Wraps the client's sink for a request that goes to the function: adds X-Cache, and for a miss
 * copies status, fields and body (up to the function's entry limit) to store them when the response
 * ends. The copy is given up at once when the response cannot be stored, so large or uncacheable
 * responses cost nothing beyond the pass-through.
 */
final class CapturingSink implements ResponseSink {
  private final Lookup.Forward forward;
  private final ResponseSink client;
  private boolean capturing;
  private int status;
  private Headers headers;
  private byte[] buffer;
  private int size;

  CapturingSink(Lookup.Forward forward, ResponseSink client) {
    this.forward = forward;
    this.client = client;
    this.capturing = forward.capturing();
  }

  @Override
  public void head(int status, Headers headers, long contentLength) throws IOException {
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
    client.head(
        status, headers.toBuilder().set("x-cache", forward.xCache()).build(), contentLength);
  }

  @Override
  public void body(ByteBuffer chunk) throws IOException {
    if (capturing) {
      int n = chunk.remaining();
      long limit = forward.maxEntryBytes();
      if ((long) size + n > limit) {
        capturing = false;
        buffer = null;
      } else {
        if (size + n > buffer.length) {
          buffer =
              Arrays.copyOf(buffer, (int) Math.min(limit, Math.max(size + n, 2L * buffer.length)));
        }
        chunk.get(chunk.position(), buffer, size, n); // absolute: leaves the chunk for the client
        size += n;
      }
    }
    client.body(chunk);
  }

  @Override
  public void end() throws IOException {
    try {
      client.end();
    } finally {
      // The function's response is complete even when the client has gone: it can be stored.
      if (capturing) {
        capturing = false;
        byte[] body = size == buffer.length ? buffer : Arrays.copyOf(buffer, size);
        buffer = null;
        forward.completed(status, headers, body);
      }
      forward.done();
    }
  }

  @Override
  public boolean committed() {
    return client.committed();
  }
}
