package dev.locallambdas.sdk;

import java.io.IOException;
import java.io.OutputStream;
import java.util.Objects;

/** The stream a {@link Response.BodyWriter} writes to: buffers up to one chunk per frame. */
final class ResponseOutput extends OutputStream {

  private final Exchange exchange;
  private final byte[] buffer;
  private int count;
  private boolean finished;

  ResponseOutput(Exchange exchange, int chunkSize) {
    this.exchange = exchange;
    this.buffer = new byte[chunkSize];
  }

  @Override
  public void write(int b) throws IOException {
    if (count == buffer.length) {
      drain();
    }
    buffer[count++] = (byte) b;
  }

  @Override
  public void write(byte[] bytes, int offset, int length) throws IOException {
    Objects.checkFromIndexSize(offset, length, bytes.length);
    while (length > 0) {
      if (count == 0 && length >= buffer.length) {
        // A whole chunk from the caller's array goes out without a copy; with shared memory the
        // whole write may go through a slot.
        checkOpen();
        int n = exchange.takesLargeWrites(length) ? length : buffer.length;
        exchange.emit(bytes, offset, n, false);
        offset += n;
        length -= n;
        continue;
      }
      if (count == buffer.length) {
        drain();
      }
      int n = Math.min(length, buffer.length - count);
      System.arraycopy(bytes, offset, buffer, count, n);
      count += n;
      offset += n;
      length -= n;
    }
  }

  /** Sends what is buffered now; before any body byte it sends the response head. */
  @Override
  public void flush() throws IOException {
    drain();
  }

  /** Only flushes: the SDK ends the body when the writer returns. */
  @Override
  public void close() throws IOException {
    if (!finished) {
      drain();
    }
  }

  /** Sends the rest with END_STREAM. */
  void finish() throws IOException {
    checkOpen();
    finished = true;
    exchange.emit(buffer, 0, count, true);
    count = 0;
  }

  private void drain() throws IOException {
    checkOpen();
    exchange.emit(buffer, 0, count, false);
    count = 0;
  }

  private void checkOpen() throws IOException {
    if (finished) {
      throw new IOException("the response body has already ended");
    }
  }
}
