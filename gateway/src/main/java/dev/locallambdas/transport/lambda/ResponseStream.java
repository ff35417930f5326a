package dev.locallambdas.transport.lambda;

import dev.locallambdas.exchange.Headers;
import dev.locallambdas.transport.TransportException;
import dev.locallambdas.transport.TransportException.Kind;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * A streamed response ({@code Lambda-Runtime-Function-Response-Mode: streaming}) on its way from
 * the runtime's connection to the client, on the environment's loop. Each piece of the runtime's
 * body goes on to the client as it arrives; when more than {@link #HIGH_WATER} bytes are written
 * but not yet taken by the client's socket, the runtime's connection stops being read (TCP then
 * stops the runtime), and reading resumes below {@link #LOW_WATER}.
 *
 * <p>With the content type {@value #PRELUDE_TYPE} (what {@code awslambda.HttpResponseStream} of the
 * Node.js client sends for function URLs), the body starts with a JSON prelude, {@code
 * {"statusCode", "headers", "cookies"}}, ended by eight NUL bytes; the rest is the response body.
 * Without it the response is a 200 with the runtime's content type. An error reported in the
 * trailers ({@code Lambda-Runtime-Function-Error-Type}, {@code -Body} in base64) before anything
 * was sent becomes the usual 500; after the head it cuts the client's response off (no last chunk),
 * so the client sees a failed response, never a truncated one that looks complete.
 *
 * <p>States: PRELUDE or PENDING → BODY (head sent, relaying) → DONE (ended, failed or abandoned:
 * later pieces are released).
 */
final class ResponseStream {
  static final String PRELUDE_TYPE = "application/vnd.awslambda.http-integration-response";
  static final String MODE_HEADER = "Lambda-Runtime-Function-Response-Mode";
  static final String ERROR_TYPE_TRAILER = "Lambda-Runtime-Function-Error-Type";
  static final String ERROR_BODY_TRAILER = "Lambda-Runtime-Function-Error-Body";

  static final int HIGH_WATER = 256 * 1024;
  static final int LOW_WATER = 64 * 1024;

  /** A prelude is a small JSON object; a runtime that never ends it is refused past this. */
  static final int MAX_PRELUDE = 64 * 1024;

  private static final int DELIMITER = 8;

  private enum State {
    /** Gathering the prelude. */
    PRELUDE,
    /**
     * No prelude, nothing sent yet: the head goes with the first byte (an early error is a 500).
     */
    PENDING,
    /** The head was sent; relaying. */
    BODY,
    DONE
  }

  private final Invocation inv;
  private final Channel runtime;
  private final String contentType;
  private State state;
  private CompositeByteBuf prelude;
  private long outstanding;
  private boolean paused;

  ResponseStream(Invocation inv, Channel runtime, String contentType) {
    this.inv = inv;
    this.runtime = runtime;
    this.contentType = contentType;
    this.state =
        PRELUDE_TYPE.equalsIgnoreCase(contentType) && !inv.isInvoke()
            ? State.PRELUDE
            : State.PENDING;
  }

  private Headers plainHeaders() {
    String type =
        contentType == null || contentType.isEmpty() ? "application/octet-stream" : contentType;
    return Headers.builder().add("content-type", type).build();
  }

  /** A piece of the runtime's body; ownership passes here. */
  void piece(ByteBuf piece) {
    switch (state) {
      case DONE -> piece.release();
      case BODY -> relay(piece);
      case PRELUDE -> gatherPrelude(piece);
      case PENDING -> {
        if (piece.isReadable()) {
          state = State.BODY;
          inv.streamHead(200, plainHeaders());
        }
        relay(piece);
      }
    }
  }

  private void gatherPrelude(ByteBuf piece) {
    if (prelude == null) {
      prelude = Unpooled.compositeBuffer(16);
    }
    prelude.addComponent(true, piece);
    int end = delimiter(prelude);
    if (end < 0) {
      if (prelude.readableBytes() > MAX_PRELUDE) {
        fail("its streamed response's prelude has no end (eight NUL bytes) in its first 64 KiB");
      }
      return;
    }
    byte[] json = ByteBufUtil.getBytes(prelude, prelude.readerIndex(), end - prelude.readerIndex());
    HttpAnswer head;
    try {
      head = Responses.prelude(json);
    } catch (Responses.MalformedException e) {
      fail("its streamed response's prelude is not usable: " + e.getMessage());
      return;
    }
    prelude.readerIndex(end + DELIMITER);
    ByteBuf rest = prelude;
    prelude = null;
    state = State.BODY;
    inv.streamHead(head.status(), head.headers());
    relay(rest);
  }

  /** The index of the first of eight NUL bytes in a row, or -1. */
  private static int delimiter(ByteBuf b) {
    int run = 0;
    for (int i = b.readerIndex(); i < b.writerIndex(); i++) {
      run = b.getByte(i) == 0 ? run + 1 : 0;
      if (run == DELIMITER) {
        return i - DELIMITER + 1;
      }
    }
    return -1;
  }

  private void relay(ByteBuf piece) {
    int n = piece.readableBytes();
    if (n == 0) {
      piece.release();
      return;
    }
    outstanding += n;
    inv.streamBody(piece);
    if (!paused && outstanding > HIGH_WATER) {
      paused = true;
      runtime.config().setAutoRead(false);
    }
  }

  /** The client's socket took {@code bytes} more bytes. */
  void consumed(int bytes) {
    outstanding -= bytes;
    if (paused && outstanding < LOW_WATER) {
      resume();
    }
  }

  private void resume() {
    paused = false;
    runtime.config().setAutoRead(true);
  }

  /**
   * The runtime's body ended; {@code errorType} is its error trailer (null when it succeeded) and
   * {@code errorBody} the base64 trailer with the error document.
   */
  void end(String errorType, String errorBody) {
    if (state == State.DONE) {
      return;
    }
    if (errorType != null && !errorType.isEmpty()) {
      byte[] document = new byte[0];
      if (errorBody != null) {
        try {
          document = Base64.getDecoder().decode(errorBody.trim());
        } catch (IllegalArgumentException e) {
          document = errorBody.getBytes(StandardCharsets.UTF_8);
        }
      }
      LambdaError error = LambdaError.of(errorType, document);
      if (state != State.BODY) {
        done();
        inv.handlerFailed(error);
      } else {
        done();
        inv.streamFailed(
            new TransportException(
                Kind.HANDLER_ERROR,
                "the handler failed while streaming its response: " + error.describe()));
      }
      return;
    }
    if (state == State.PRELUDE) {
      fail("its streamed response ended before the prelude did (eight NUL bytes)");
      return;
    }
    if (state == State.PENDING) {
      inv.streamHead(200, plainHeaders()); // an empty body
    }
    done();
    inv.streamEnd();
  }

  /** The runtime's connection broke mid-stream. */
  void broken() {
    if (state == State.DONE) {
      return;
    }
    boolean headSent = state == State.BODY;
    done();
    TransportException e =
        new TransportException(
            Kind.CHILD_FAILED, "the runtime's connection broke while it streamed its response");
    if (headSent) {
      inv.streamFailed(e);
    } else {
      inv.failed(e);
    }
  }

  /**
   * The invocation is over from the gateway's side (the client left, the deadline passed): the
   * runtime's pieces are read and dropped from here on, so it is never left blocked.
   */
  void abandon() {
    done();
  }

  private void fail(String why) {
    boolean headSent = state == State.BODY;
    done();
    TransportException e = new TransportException(Kind.RESET, why);
    if (headSent) {
      inv.streamFailed(e);
    } else {
      inv.failed(e);
    }
  }

  private void done() {
    state = State.DONE;
    if (prelude != null) {
      prelude.release();
      prelude = null;
    }
    if (paused) {
      resume();
    }
  }

  boolean isDone() {
    return state == State.DONE;
  }
}
