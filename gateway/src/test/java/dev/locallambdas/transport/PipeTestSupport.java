package dev.locallambdas.transport;

import dev.locallambdas.exchange.BodySource;
import dev.locallambdas.exchange.Headers;
import dev.locallambdas.exchange.Request;
import dev.locallambdas.exchange.ResponseSink;
import dev.locallambdas.manifest.FunctionSpec;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Sinks, bodies and requests shared by the pipe tests. */
final class PipeTestSupport {
  private PipeTestSupport() {}

  static EndpointContext context(Path runDirectory, int concurrency) {
    FunctionSpec spec =
        FunctionSpec.builder("echo")
            .executable("echo-child")
            .route("/echo/*")
            .concurrency(concurrency)
            .build();
    return new EndpointContext(spec, 3, runDirectory);
  }

  static Request get(String path) {
    return new Request(
        "GET",
        path,
        null,
        Headers.builder().add("host", "localhost").add("x-forwarded-for", "10.0.0.1").build(),
        BodySource.empty(),
        "10.0.0.1");
  }

  static Request post(String path, BodySource body) {
    return new Request("POST", path, null, Headers.empty(), body, "10.0.0.1");
  }

  /** A body handed out in chunks of the given sizes, cycling; direct chunks where asked. */
  static BodySource chunked(byte[] bytes, boolean declareLength, int[] sizes, boolean[] direct) {
    return new BodySource() {
      private int offset;
      private int turn;

      @Override
      public long length() {
        return declareLength ? bytes.length : -1;
      }

      @Override
      public ByteBuffer next() {
        if (offset == bytes.length) {
          return null;
        }
        int n = Math.min(sizes[turn % sizes.length], bytes.length - offset);
        ByteBuffer b =
            direct[turn % direct.length] ? ByteBuffer.allocateDirect(n) : ByteBuffer.allocate(n);
        b.put(bytes, offset, n).flip();
        offset += n;
        turn++;
        return b;
      }
    };
  }

  /** Remembers everything, checks the call order the ResponseSink contract promises. */
  static class CollectingSink implements ResponseSink {
    volatile int status = -1;
    volatile Headers headers;
    volatile long contentLength = -2;
    final ByteArrayOutputStream body = new ByteArrayOutputStream();
    final List<Integer> chunks = new ArrayList<>();
    volatile boolean ended;

    @Override
    public void head(int status, Headers headers, long contentLength) {
      if (this.status != -1) {
        throw new IllegalStateException("head twice");
      }
      this.status = status;
      this.headers = headers;
      this.contentLength = contentLength;
    }

    @Override
    public void body(ByteBuffer chunk) throws IOException {
      if (status == -1 || ended) {
        throw new IllegalStateException("body outside head..end");
      }
      chunks.add(chunk.remaining());
      byte[] b = new byte[chunk.remaining()];
      chunk.get(b);
      body.write(b);
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

    String text() {
      return body.toString(java.nio.charset.StandardCharsets.UTF_8);
    }
  }

  /** Counts and discards: proves a large body streams through without being held. */
  static final class CountingSink implements ResponseSink {
    long bytes;
    int largestChunk;
    long contentLength = -2;
    boolean ended;
    final java.util.zip.CRC32 crc = new java.util.zip.CRC32();

    @Override
    public void head(int status, Headers headers, long contentLength) {
      this.contentLength = contentLength;
    }

    @Override
    public void body(ByteBuffer chunk) {
      bytes += chunk.remaining();
      largestChunk = Math.max(largestChunk, chunk.remaining());
      crc.update(chunk);
    }

    @Override
    public void end() {
      ended = true;
    }

    @Override
    public boolean committed() {
      return contentLength != -2;
    }
  }
}
