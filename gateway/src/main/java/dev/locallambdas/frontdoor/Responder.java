package dev.locallambdas.frontdoor;

import dev.locallambdas.exchange.Headers;
import dev.locallambdas.exchange.Problem;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import java.util.function.IntConsumer;

/**
 * Writes one response to the client connection, on its event loop, never blocking. A response of
 * known length up to 256 KiB is gathered and written as one message when it ends (one syscall, and
 * a child dying in its middle still gets a clean 502 instead of a cut connection); others stream,
 * each piece reported as consumed once the socket took it, which is what lets the function send
 * more (flow control). Adds a Date field when the function sent none.
 */
final class Responder {
  /** Told on the event loop when the response is written; {@code close}: the connection ends. */
  interface Completion {
    void written(boolean close);
  }

  static final int GATHER_LIMIT = 256 * 1024;

  private final ChannelHandlerContext ctx;
  private final boolean headRequest;
  private final boolean http10;
  private final boolean keepAliveRequested;
  private final Completion onComplete;
  private IntConsumer consumed = n -> {};
  private String requestId;

  private boolean committed;
  private boolean finished;
  private boolean keepAlive;
  private boolean chunked;
  private boolean noBody;
  private boolean forceClose;
  private HttpResponse pendingHead;

  /** The body of a gathered response so far: the first piece itself, then a composite. */
  private ByteBuf gathered;

  private long bytes;

  Responder(
      ChannelHandlerContext ctx,
      boolean headRequest,
      boolean http10,
      boolean keepAliveRequested,
      Completion onComplete) {
    this.ctx = ctx;
    this.headRequest = headRequest;
    this.http10 = http10;
    this.keepAliveRequested = keepAliveRequested;
    this.onComplete = onComplete;
  }

  /** Echoed in an X-Request-Id field of the response, when the function did not set one. */
  void requestId(String value) {
    requestId = value;
  }

  String requestId() {
    return requestId;
  }

  /** Who to tell when body bytes were consumed by the client. */
  void onConsumed(IntConsumer value) {
    consumed = value;
  }

  /** Asks the connection to close once this response is written (e.g. the body was not read). */
  void closeAfter() {
    forceClose = true;
  }

  /** True once bytes of the response went (or are going) to the client. */
  boolean committed() {
    return committed;
  }

  /** True once the response ended, failed or was aborted. */
  boolean finished() {
    return finished;
  }

  /** Body bytes written or gathered so far (for the access log). */
  long bytes() {
    return bytes;
  }

  void head(int status, Headers headers, long contentLength) {
    if (finished || pendingHead != null || committed) {
      return;
    }
    keepAlive = keepAliveRequested && !forceClose;
    HttpResponseStatus st = HttpResponseStatus.valueOf(status);
    noBody = headRequest || status == 204 || status == 304 || status < 200;
    boolean gather = contentLength >= 0 && contentLength <= GATHER_LIMIT && !noBody;
    HttpResponse response = new DefaultHttpResponse(HttpVersion.HTTP_1_1, st);
    HttpHeaders h = response.headers();
    for (int i = 0; i < headers.size(); i++) {
      h.add(headers.name(i), headers.value(i));
    }
    if (!h.contains(HttpHeaderNames.DATE)) {
      h.set(HttpHeaderNames.DATE, HttpDate.now());
    }
    if (requestId != null && !h.contains(ForwardedHeaders.REQUEST_ID)) {
      h.set(ForwardedHeaders.REQUEST_ID, requestId);
    }
    if (noBody) {
      if (contentLength >= 0 && headRequest) {
        h.set(HttpHeaderNames.CONTENT_LENGTH, contentLength);
      }
    } else if (contentLength >= 0) {
      h.set(HttpHeaderNames.CONTENT_LENGTH, contentLength);
    } else if (!http10) {
      chunked = true;
      h.set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
    } else {
      keepAlive = false; // HTTP/1.0 without a length: the close ends the body
    }
    if (!keepAlive) {
      h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
    } else if (http10) {
      h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
    }
    if (gather) {
      pendingHead = response;
    } else {
      committed = true;
      ctx.write(response);
    }
  }

  /** A piece of the body; ownership passes here. */
  void body(ByteBuf content) {
    int n = content.readableBytes();
    if (finished || noBody || n == 0 || (!committed && pendingHead == null)) {
      content.release();
      if (n > 0 && !finished) {
        consumed.accept(n);
      }
      return;
    }
    bytes += n;
    if (pendingHead != null) {
      // A small response in one piece (the common case) is written as it came: no copy.
      if (gathered == null) {
        gathered = content;
      } else if (gathered instanceof CompositeByteBuf composite) {
        composite.addComponent(true, content);
      } else {
        gathered = ctx.alloc().compositeBuffer(16).addComponents(true, gathered, content);
      }
      consumed.accept(n); // bounded by the gather limit: gathering counts as consuming
      return;
    }
    ctx.writeAndFlush(new DefaultHttpContent(content))
        .addListener(
            f -> {
              if (f.isSuccess()) {
                consumed.accept(n);
              }
            });
  }

  void end() {
    if (finished) {
      return;
    }
    ChannelFuture f;
    if (pendingHead != null) {
      committed = true;
      ByteBuf body = gathered != null ? gathered : Unpooled.EMPTY_BUFFER;
      pendingHead.headers().set(HttpHeaderNames.CONTENT_LENGTH, body.readableBytes());
      f =
          ctx.writeAndFlush(
              new DefaultFullHttpResponse(
                  HttpVersion.HTTP_1_1,
                  pendingHead.status(),
                  body,
                  pendingHead.headers(),
                  EmptyHttpHeaders.INSTANCE));
      pendingHead = null;
      gathered = null;
    } else {
      committed = true;
      f =
          ctx.writeAndFlush(
              chunked ? LastHttpContent.EMPTY_LAST_CONTENT : new DefaultLastHttpContent());
    }
    finish(f);
  }

  /** Writes one of the gateway's own error responses instead of the function's. */
  void problem(Problem problem, String instance, boolean close) {
    if (finished) {
      return;
    }
    // A gathered response that never reached the client is dropped: the error replaces it.
    discardGathered();
    committed = true;
    keepAlive = keepAliveRequested && !close && !forceClose;
    var response = ProblemJson.response(problem, instance, !keepAlive, headRequest);
    if (requestId != null) {
      response.headers().set(ForwardedHeaders.REQUEST_ID, requestId);
    }
    finish(ctx.writeAndFlush(response));
  }

  /** Writes an answer the gateway produced whole (the admin endpoints). */
  void full(HttpResponseStatus status, Headers headers, ByteBuf body) {
    head(status.code(), headers, body.readableBytes());
    body(body);
    end();
  }

  /** Aborts a response that cannot be completed: the client sees the connection close. */
  void abort() {
    if (finished) {
      return;
    }
    discardGathered();
    finished = true;
    ctx.close();
    onComplete.written(true);
  }

  private void finish(ChannelFuture f) {
    finished = true;
    f.addListener(x -> onComplete.written(!keepAlive || forceClose || !x.isSuccess()));
  }

  private void discardGathered() {
    if (gathered != null) {
      gathered.release();
    }
    gathered = null;
    pendingHead = null;
  }
}
