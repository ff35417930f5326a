package dev.locallambdas.transport;

import dev.locallambdas.exchange.BodySource;
import dev.locallambdas.exchange.Headers;
import dev.locallambdas.exchange.Request;
import dev.locallambdas.exchange.ResponseSink;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;

/**
 * One request over a {@link PipeConnection}: sends the head and the body, then feeds the response
 * frames to the sink. Response frames that arrive while the body is still being sent are passed on
 * between body chunks, so a child may answer while it reads.
 */
final class PipeExchange {
  private static final ByteBuffer EMPTY = ByteBuffer.allocate(0);

  private final PipeConnection connection;
  private final PipeStream stream;
  private final ResponseSink sink;

  /** A head without END_STREAM, held until the next frame tells whether the length is known. */
  private int heldStatus;

  private Headers heldHeaders;
  private boolean done;

  PipeExchange(PipeConnection connection, PipeStream stream, ResponseSink sink) {
    this.connection = connection;
    this.stream = stream;
    this.sink = sink;
  }

  void run(Request request) throws IOException {
    try {
      send(request);
      while (!done) {
        handle(stream.take());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      giveUp("request cancelled by the gateway");
      throw new InterruptedIOException(
          connection.label() + ": interrupted while waiting for the response");
    } catch (IOException | RuntimeException | Error e) {
      giveUp(
          e instanceof InterruptedIOException
              ? "request cancelled by the gateway"
              : "gateway aborted the request: " + e.getMessage());
      throw e;
    }
  }

  private void giveUp(String reason) {
    if (connection.abandon(stream)) {
      connection.resetQuietly(stream.id, reason);
    }
  }

  private void send(Request request) throws IOException {
    BodySource body = request.body();
    long length = body.length();
    connection.writeRequestHead(stream, request, length == 0);
    if (length == 0) {
      stream.requestSent();
      return;
    }
    long sent = 0;
    while (true) {
      passOnQueuedFrames();
      if (done) {
        // The child finished its response without waiting for the rest of the body: tell it
        // that no more is coming.
        connection.resetQuietly(stream.id, "response complete before the request body");
        return;
      }
      ByteBuffer chunk = body.next();
      if (chunk == null) {
        if (length >= 0) {
          throw new IOException(
              "request body ended after " + sent + " of its declared " + length + " bytes");
        }
        connection.writeRequestBody(stream, EMPTY, 0, true);
        break;
      }
      if (length >= 0 && sent + chunk.remaining() > length) {
        throw new IOException("request body is longer than its declared " + length + " bytes");
      }
      if (!chunk.hasRemaining()) {
        continue;
      }
      while (chunk.hasRemaining() && !done) {
        int n = Math.min(chunk.remaining(), FrameCodec.BODY_CHUNK);
        sent += n;
        boolean last = sent == length;
        connection.writeRequestBody(stream, chunk, n, last);
        if (chunk.hasRemaining()) {
          passOnQueuedFrames();
        }
      }
      if (sent == length) {
        break;
      }
    }
    stream.requestSent();
  }

  private void passOnQueuedFrames() throws IOException {
    Frame f;
    while (!done && (f = stream.poll()) != null) {
      handle(f);
    }
  }

  private void handle(Frame f) throws IOException {
    switch (f.type()) {
      case FrameCodec.RESPONSE_HEAD -> {
        FrameCodec.ResponseHead head;
        try {
          head = FrameCodec.decodeResponseHead(f.payload());
        } catch (FrameException e) {
          throw connection.protocolError(
              stream, connection.label() + ": child sent a bad response head: " + e.getMessage());
        }
        if (f.endStream()) {
          sink.head(head.status(), head.headers(), 0);
          finish();
        } else {
          heldStatus = head.status();
          heldHeaders = head.headers();
        }
      }
      case FrameCodec.RESPONSE_BODY -> {
        ByteBuffer payload = f.payload();
        if (heldHeaders != null) {
          // A whole body in one frame (the common small response) gets a Content-Length.
          sink.head(heldStatus, heldHeaders, f.endStream() ? payload.remaining() : -1);
          heldHeaders = null;
        }
        if (payload.hasRemaining()) {
          sink.body(payload);
        }
        if (f.endStream()) {
          finish();
        }
      }
      case FrameCodec.RESET -> {
        String reason = FrameCodec.decodeReset(f.payload());
        throw new TransportException(
            TransportException.Kind.RESET,
            connection.label()
                + ": child reset the request"
                + (reason.isEmpty() ? "" : ": " + clip(reason)));
      }
      default -> throw new IllegalStateException("unroutable " + f);
    }
  }

  private void finish() throws IOException {
    done = true;
    sink.end();
  }

  /** A reason from the child ends up in a 502 page and logs: keep it short and printable. */
  private static String clip(String s) {
    StringBuilder b = new StringBuilder(Math.min(s.length(), 200));
    for (int i = 0; i < s.length() && b.length() < 200; i++) {
      char c = s.charAt(i);
      b.append(c < 0x20 || c == 0x7F ? ' ' : c);
    }
    return b.toString();
  }
}
