package dev.locallambdas.transport;

import dev.locallambdas.exchange.Headers;
import dev.locallambdas.exchange.ResponseSink;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/** A ResponseSink that keeps everything, checking the call order the interface promises. */
final class HttpTestSink implements ResponseSink {
  int status = -1;
  Headers headers;
  long contentLength = -2;
  boolean ended;
  final ByteArrayOutputStream body = new ByteArrayOutputStream();

  @Override
  public void head(int status, Headers headers, long contentLength) {
    if (this.status != -1) {
      throw new IllegalStateException("head called twice");
    }
    this.status = status;
    this.headers = headers;
    this.contentLength = contentLength;
  }

  @Override
  public void body(ByteBuffer chunk) {
    if (status == -1 || ended) {
      throw new IllegalStateException("body outside head..end");
    }
    byte[] b = new byte[chunk.remaining()];
    chunk.get(b);
    body.writeBytes(b);
  }

  @Override
  public void end() {
    if (status == -1 || ended) {
      throw new IllegalStateException("end without head or twice");
    }
    ended = true;
  }

  @Override
  public boolean committed() {
    return status != -1;
  }

  byte[] bytes() {
    return body.toByteArray();
  }

  String text() {
    return body.toString(StandardCharsets.UTF_8);
  }
}
