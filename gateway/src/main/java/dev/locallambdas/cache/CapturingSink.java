package dev.locallambdas.cache;

import dev.locallambdas.exchange.Headers;
import dev.locallambdas.exchange.ResponseSink;
import java.io.IOException;
import java.nio.ByteBuffer;

/** A {@link Capture} in front of a blocking {@link ResponseSink} (the legacy transports' side). */
final class CapturingSink implements ResponseSink {
  private final Capture capture;
  private final ResponseSink client;

  CapturingSink(Lookup.Forward forward, ResponseSink client) {
    this.capture = new Capture(forward);
    this.client = client;
  }

  @Override
  public void head(int status, Headers headers, long contentLength) throws IOException {
    client.head(status, capture.head(status, headers, contentLength), contentLength);
  }

  @Override
  public void body(ByteBuffer chunk) throws IOException {
    capture.body(chunk);
    client.body(chunk);
  }

  @Override
  public void end() throws IOException {
    try {
      client.end();
    } finally {
      capture.end();
    }
  }

  @Override
  public boolean committed() {
    return client.committed();
  }
}
