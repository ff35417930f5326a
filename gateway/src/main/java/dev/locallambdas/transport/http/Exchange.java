package dev.locallambdas.transport.http;

import dev.locallambdas.exchange.Request;
import dev.locallambdas.transport.Call;
import dev.locallambdas.transport.CallListener;
import dev.locallambdas.transport.Outcome;
import dev.locallambdas.transport.TransportException;
import dev.locallambdas.transport.TransportException.Kind;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.PrematureChannelClosureException;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpMessageDecoderResult;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayDeque;

/**
 * One request to an HTTP child, run on the caller's event loop: the {@link Call} the front door
 * drives, and what the connection carrying it reports to.
 *
 * <p>Design note. Everything here runs on one thread (the loop of the client connection, which is
 * also the loop of the child connection), so the state is plain fields and no lock is taken. The
 * request side (head, then body pieces until the last) and the response side (head, body, end)
 * progress independently; the call finishes once, in one of three ways, each setting {@link
 * #outcome} before anything else happens: the response ends ({@link #complete}), the call fails
 * ({@link #fail}), or the front door cancels it ({@link #cancel}). From then on every event from
 * either side is dropped (buffers released), and {@link CallListener#released} is delivered exactly
 * once, last. Two things are deferred to a later turn of the loop: a failure found inside {@link
 * LoopPool#open} (the listener may not be called from there) and the release after a cancel (so
 * {@code cancel} never calls back into the front door; a TIMEOUT arriving before that turn still
 * upgrades the outcome to HUNG).
 *
 * <p>Who is to blame when the connection goes away is decided from what had happened on it (see
 * {@link #connectionLost}): nothing sent, nothing answered on a kept-alive connection, or broken
 * mid-answer. The transport never retries; NOT_DELIVERED tells the dispatcher that it may.
 */
final class Exchange implements Call, ChannelFutureListener, Runnable {
  /**
   * Response bytes handed to the listener but not yet consumed above which the connection stops
   * reading. One more read (at most 64 KiB) may be in flight, so at most about 192 KiB wait.
   */
  static final int MAX_UNCONSUMED = 128 * 1024;

  /**
   * Request body bytes held while the connection is being opened; beyond them the caller is told to
   * stop sending (bodyWritable false) until the connection is up.
   */
  static final int MAX_WAITING_BODY = 256 * 1024;

  private final LoopPool pool;
  private final CallListener listener;
  private final HttpRequest head;
  private final boolean headRequest;
  private final boolean repeatable;
  private final long declared;

  private ChildConnection connection; // null before the connect is started and once finished
  private boolean reused;
  private ChannelPromise headWrite; // null until the connection is up and the head written
  private ArrayDeque<HttpContent> waiting; // body pieces that came before the connection was up
  private long waitingBytes;
  private long sent;
  private boolean requestDone;
  private boolean writable = true; // as last told to the listener

  private int headBytes;
  private ResponseHead response; // null until the final response head
  private long received;
  private long outstanding; // delivered but not yet consumed

  private boolean opening = true;
  private Outcome outcome; // set once the call finishes
  private TransportException failure; // to deliver unless cancelled first
  private boolean ended;
  private boolean cancelled;
  private boolean released;

  Exchange(LoopPool pool, Request request, CallListener listener) {
    this.pool = pool;
    this.listener = listener;
    this.head = RequestHead.of(request, pool.host());
    this.headRequest = request.method().equals("HEAD");
    this.declared = request.bodyLength();
    this.requestDone = declared == 0;
    // RFC 9112 9.3.1: an idempotent request may be repeated when the connection closed before
    // any answer; the body, once handed over, cannot be sent again.
    this.repeatable = declared == 0 && idempotent(request.method());
  }

  private static boolean idempotent(String method) {
    return switch (method) {
      case "GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE" -> true;
      default -> false;
    };
  }

  /** {@link LoopPool#open} has returned: listener calls may happen from now on. */
  void opened() {
    opening = false;
  }

  boolean headRequest() {
    return headRequest;
  }

  /** A connection is being opened for this call. */
  void connecting(ChildConnection c) {
    connection = c;
  }

  /** The connection is ready (a new one connected, or an idle one taken): send the request. */
  void start(ChildConnection c, boolean reused) {
    if (outcome != null) {
      c.abort(); // cancelled or failed while the connect was under way
      return;
    }
    this.connection = c;
    this.reused = reused;
    c.attach(this);
    headWrite = c.writeHead(head, requestDone, this);
    ArrayDeque<HttpContent> pieces = waiting;
    waiting = null;
    waitingBytes = 0;
    if (pieces != null) {
      for (HttpContent piece = pieces.poll(); piece != null; piece = pieces.poll()) {
        if (outcome == null) {
          c.writeBody(piece, pieces.isEmpty());
        } else {
          piece.release(); // a write failed and the call with it
        }
      }
    }
    if (outcome == null) {
      c.read(); // AUTO_READ is off: the answer (or an early close) is read from now on
      if (!requestDone) {
        tellWritable(c.isWritable());
      }
    }
  }

  /** The connect failed: nothing reached the child, and nothing listens where it should. */
  void connectFailed(Throwable cause) {
    fail(
        new TransportException(
            Kind.NOT_DELIVERED,
            "cannot connect to " + pool.peer() + ": " + cause.getMessage(),
            cause),
        Outcome.BROKEN);
  }

  // ---- Call: request body, flow control, cancellation ----

  @Override
  public void body(ByteBuf content, boolean last) {
    if (outcome != null || requestDone) {
      content.release();
      return;
    }
    int n = content.readableBytes();
    sent += n;
    // A body of known length ends with its last byte, whatever the caller says: the encoder
    // must see its end before the connection can carry the next request.
    boolean end = last || sent == declared;
    requestDone = end;
    if (declared > 0 && (sent > declared || last && sent != declared)) {
      content.release();
      // Never let the child see a body that disagrees with its Content-Length: the surplus
      // would be read as the next request.
      fail(
          new TransportException(
              Kind.CHILD_FAILED,
              "the request body for "
                  + pool.peer()
                  + " had "
                  + (sent > declared ? "more" : "fewer")
                  + " than its declared "
                  + declared
                  + " bytes; the connection was closed"),
          Outcome.FAILED);
      return;
    }
    HttpContent piece;
    if (end) {
      piece = n == 0 ? emptyLast(content) : new DefaultLastHttpContent(content);
    } else if (n == 0) {
      content.release();
      return;
    } else {
      piece = new DefaultHttpContent(content);
    }
    if (headWrite == null) {
      if (waiting == null) {
        waiting = new ArrayDeque<>(4);
      }
      waiting.add(piece);
      waitingBytes += n;
      if (waitingBytes >= MAX_WAITING_BODY) {
        tellWritable(false);
      }
      return;
    }
    connection.writeBody(piece, true);
    if (!requestDone && connection != null && !connection.isWritable()) {
      tellWritable(false);
    }
  }

  private static LastHttpContent emptyLast(ByteBuf content) {
    content.release();
    return LastHttpContent.EMPTY_LAST_CONTENT;
  }

  @Override
  public void consumed(int bytes) {
    outstanding -= bytes;
    if (outcome == null && outstanding < MAX_UNCONSUMED && connection != null) {
      connection.read();
    }
  }

  @Override
  public void cancel(Cancel why) {
    if (released || ended) {
      return;
    }
    Outcome o = why == Cancel.TIMEOUT ? Outcome.HUNG : Outcome.FAILED;
    cancelled = true;
    if (outcome != null) {
      outcome = worse(outcome, o); // a release is already on its way
      return;
    }
    outcome = o;
    stop(); // HTTP/1.1 has no way to abandon one request but closing its connection
    pool.loop().execute(this);
  }

  private static Outcome worse(Outcome a, Outcome b) {
    return a.compareTo(b) >= 0 ? a : b;
  }

  // ---- what the connection reports ----

  /** True while the call wants more of the response read. */
  boolean wantsRead() {
    return outcome == null && outstanding < MAX_UNCONSUMED;
  }

  /** For tests and diagnostics: the response has stopped being read until the client catches up. */
  boolean readingHeld() {
    return outcome == null && outstanding >= MAX_UNCONSUMED;
  }

  void writabilityChanged(boolean nowWritable) {
    if (outcome == null && !requestDone) {
      tellWritable(nowWritable);
    }
  }

  private void tellWritable(boolean w) {
    if (opening || w == writable) {
      return; // inside open the listener may not be called; the next body piece looks again
    }
    writable = w;
    listener.bodyWritable(w);
  }

  void onResponse(HttpObject msg) {
    if (outcome != null) {
      ReferenceCountUtil.release(msg);
      return;
    }
    if (msg instanceof HttpResponse r) {
      onHead(r);
    } else if (msg instanceof HttpContent c) {
      onContent(c);
    } else {
      ReferenceCountUtil.release(msg);
    }
  }

  private void onHead(HttpResponse r) {
    DecoderResult result = r.decoderResult();
    if (result.isFailure()) {
      ReferenceCountUtil.release(r); // an invalid message is a full response, empty buffer
      decodeFailed(result.cause());
      return;
    }
    headBytes += ((HttpMessageDecoderResult) result).totalSize();
    if (headBytes > ResponseDecoder.MAX_HEAD_BYTES) {
      protocol("sent a response head larger than the limit of 64 KiB");
      return;
    }
    if (r.status().code() < 200) {
      return; // interim (1xx): its empty end follows, then the real answer
    }
    try {
      response = ResponseHead.of(r, headRequest);
    } catch (ResponseDecoder.Violation v) {
      protocol(v.getMessage());
      return;
    }
    listener.head(response.status(), response.headers(), response.contentLength());
  }

  private void onContent(HttpContent c) {
    DecoderResult result = c.decoderResult();
    if (result.isFailure()) {
      c.release();
      decodeFailed(result.cause());
      return;
    }
    if (response == null) {
      c.release(); // the end of an interim response
      return;
    }
    ByteBuf content = c.content();
    int n = content.readableBytes();
    if (n > 0) {
      received += n;
      outstanding += n;
      listener.body(content); // ownership passes; the listener may cancel from in here
    } else {
      content.release();
    }
    if (c instanceof LastHttpContent last && outcome == null) {
      try {
        ResponseHead.checkTrailers(last.trailingHeaders());
      } catch (ResponseDecoder.Violation v) {
        protocol(v.getMessage());
        return;
      }
      complete();
    }
  }

  private void decodeFailed(Throwable cause) {
    if (cause instanceof PrematureChannelClosureException) {
      connectionLost(cause); // Netty's way of saying the connection closed mid-head
    } else {
      protocol(ResponseDecoder.describe(cause));
    }
  }

  private void protocol(String what) {
    fail(new TransportException(Kind.PROTOCOL, pool.peer() + " " + what), Outcome.BROKEN);
  }

  /** The head write finished; a failure means the request never left. */
  @Override
  public void operationComplete(ChannelFuture future) {
    if (!future.isSuccess()) {
      connectionLost(future.cause());
    }
  }

  /**
   * The connection closed or broke while this call was on it. Decides whose fault that was and
   * whether the dispatcher may repeat the request.
   */
  void connectionLost(Throwable cause) {
    if (outcome != null) {
      return;
    }
    boolean answered = connection != null && connection.decoder().received();
    if (headWrite == null || !headWrite.isSuccess()) {
      // The child never got a byte of it. A kept-alive connection that the child closed is no
      // sign of a broken instance; a new connection dropped at once is.
      lost(Kind.NOT_DELIVERED, "before the request was sent", cause, reused);
    } else if (!answered && reused && repeatable) {
      // The keep-alive race: the child closed the idle connection as the request went out.
      lost(
          Kind.NOT_DELIVERED, "(kept alive from an earlier request) before answering", cause, true);
    } else if (response == null) {
      lost(
          Kind.CHILD_FAILED,
          answered ? "in the middle of the response head" : "without answering",
          cause,
          false);
    } else {
      long length = response.contentLength();
      String of = length >= 0 && !headRequest ? " of " + length : "";
      lost(Kind.CHILD_FAILED, "after " + received + of + " body bytes", cause, false);
    }
  }

  private void lost(Kind kind, String when, Throwable cause, boolean instanceFine) {
    String why = cause == null || cause.getMessage() == null ? "" : ": " + cause.getMessage();
    fail(
        new TransportException(kind, pool.peer() + " closed the connection " + when + why, cause),
        instanceFine ? Outcome.FAILED : Outcome.BROKEN);
  }

  /** The endpoint is closing: calls in flight fail and their instance is done for. */
  void endpointClosed() {
    fail(
        new TransportException(Kind.CHILD_FAILED, "the endpoint of " + pool.peer() + " was closed"),
        Outcome.BROKEN);
  }

  // ---- finishing ----

  private void complete() {
    outcome = Outcome.OK;
    ended = true;
    listener.end();
    ChildConnection c = connection;
    connection = null;
    if (c != null) {
      // A child that answered before reading the whole body leaves the rest unread: the
      // connection cannot carry another request.
      c.finish(response.keepAlive() && requestDone);
    }
    deliverRelease();
  }

  void fail(TransportException e, Outcome o) {
    if (outcome != null) {
      return;
    }
    outcome = o;
    failure = e;
    stop();
    if (opening) {
      pool.loop().execute(this);
    } else {
      deliverRelease();
    }
  }

  /** Lets go of the connection and of body pieces not yet sent. */
  private void stop() {
    ChildConnection c = connection;
    connection = null;
    if (c != null) {
      c.abort();
    }
    if (waiting != null) {
      for (HttpContent piece = waiting.poll(); piece != null; piece = waiting.poll()) {
        piece.release();
      }
      waiting = null;
    }
  }

  /** The deferred end of a failure found inside open, or of a cancellation. */
  @Override
  public void run() {
    deliverRelease();
  }

  private void deliverRelease() {
    if (released) {
      return;
    }
    if (failure != null && !cancelled) {
      listener.failed(failure);
    }
    released = true;
    listener.released(outcome);
  }
}
