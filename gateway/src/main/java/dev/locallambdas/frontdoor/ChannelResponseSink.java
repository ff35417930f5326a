package dev.locallambdas.frontdoor;

import dev.locallambdas.exchange.ClientGoneException;
import dev.locallambdas.exchange.Headers;
import dev.locallambdas.exchange.Problem;
import dev.locallambdas.exchange.ResponseSink;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Writes a function's response to the client connection from the request's virtual thread. Small
 * responses of known length are gathered and written as one message (one syscall); others are
 * streamed with backpressure: {@link #body} blocks while the channel is not writable.
 */
final class ChannelResponseSink implements ResponseSink {
  /** Told on the event loop when the response is written; {@code close}: the connection ends. */
  interface Completion {
    void written(boolean close);
  }

  private static final int GATHER_LIMIT = 256 * 1024;

  private final Channel channel;
  private final boolean headRequest;
  private final boolean http10;
  private final boolean keepAliveRequested;
  private final Completion onComplete;
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition writable = lock.newCondition();

  private boolean committed;
  private boolean keepAlive;
  private boolean chunked;
  private HttpResponse pendingHead;
  private ByteBuf gathered;
  private volatile boolean gone;
  private volatile boolean forceClose;

  ChannelResponseSink(
      Channel channel,
      boolean headRequest,
      boolean http10,
      boolean keepAliveRequested,
      Completion onComplete) {
    this.channel = channel;
    this.headRequest = headRequest;
    this.http10 = http10;
    this.keepAliveRequested = keepAliveRequested;
    this.onComplete = onComplete;
  }

  /** Called on the event loop when writability changes or the channel closes. */
  void wake(boolean closed) {
    lock.lock();
    try {
      if (closed) {
        gone = true;
      }
      writable.signalAll();
    } finally {
      lock.unlock();
    }
  }

  /** Asks the connection to close once this response is written (e.g. the body was not read). */
  void closeAfter() {
    forceClose = true;
  }

  @Override
  public void head(int status, Headers headers, long contentLength) throws IOException {
    checkOpen();
    keepAlive = keepAliveRequested && !forceClose;
    HttpResponseStatus st = HttpResponseStatus.valueOf(status);
    boolean noBody = headRequest || status == 204 || status == 304 || status < 200;
    if (contentLength >= 0 && contentLength <= GATHER_LIMIT && !noBody) {
      gathered = channel.alloc().heapBuffer((int) Math.max(contentLength, 16));
      pendingHead = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, st, gathered);
    } else {
      pendingHead = new DefaultHttpResponse(HttpVersion.HTTP_1_1, st);
    }
    HttpHeaders h = pendingHead.headers();
    for (int i = 0; i < headers.size(); i++) {
      h.add(headers.name(i), headers.value(i));
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
    if (gathered == null) {
      committed = true;
      channel.write(pendingHead);
      pendingHead = null;
    }
  }

  @Override
  public void body(ByteBuffer chunk) throws IOException {
    checkOpen();
    if (!chunk.hasRemaining() || headRequest) {
      return;
    }
    if (gathered != null) {
      gathered.writeBytes(chunk);
      return;
    }
    awaitWritable();
    channel.writeAndFlush(new DefaultHttpContent(Unpooled.copiedBuffer(chunk)));
  }

  @Override
  public void end() throws IOException {
    checkOpen();
    ChannelFuture f;
    if (pendingHead != null) {
      committed = true;
      if (pendingHead instanceof DefaultFullHttpResponse full) {
        full.headers().set(HttpHeaderNames.CONTENT_LENGTH, gathered.readableBytes());
      }
      f = channel.writeAndFlush(pendingHead);
      pendingHead = null;
      gathered = null;
    } else {
      f =
          channel.writeAndFlush(
              chunked ? LastHttpContent.EMPTY_LAST_CONTENT : new DefaultLastHttpContent());
    }
    finish(f);
  }

  private void finish(ChannelFuture f) {
    f.addListener(x -> onComplete.written(!keepAlive || forceClose || !x.isSuccess()));
  }

  /** Writes one of the gateway's own error responses. */
  void writeProblem(Problem problem, String instance, boolean close) {
    // A gathered response that never reached the client is dropped: the error replaces it.
    discardGathered();
    committed = true;
    keepAlive = keepAliveRequested && !close && !forceClose;
    finish(channel.writeAndFlush(ProblemJson.response(problem, instance, !keepAlive, headRequest)));
  }

  /** Aborts a response that cannot be completed: the client sees the connection close. */
  void abort() {
    discardGathered();
    channel.close();
  }

  private void discardGathered() {
    if (pendingHead != null && gathered != null) {
      gathered.release();
    }
    gathered = null;
    pendingHead = null;
  }

  /**
   * True once bytes of the response went to the client. A small response being gathered is not
   * committed yet, so a child dying in its middle still gets a clean 502 instead of a cut
   * connection.
   */
  @Override
  public boolean committed() {
    return committed;
  }

  private void checkOpen() throws ClientGoneException {
    if (gone || !channel.isActive()) {
      throw new ClientGoneException("client closed the connection");
    }
  }

  private void awaitWritable() throws IOException {
    if (channel.isWritable()) {
      return;
    }
    lock.lock();
    try {
      while (!channel.isWritable()) {
        checkOpen();
        try {
          writable.await();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new InterruptedIOException("interrupted while waiting for a slow client");
        }
      }
    } finally {
      lock.unlock();
    }
  }
}
