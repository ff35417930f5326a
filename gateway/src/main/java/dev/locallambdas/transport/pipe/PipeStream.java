package dev.locallambdas.transport.pipe;

import dev.locallambdas.exchange.Headers;
import dev.locallambdas.exchange.Request;
import dev.locallambdas.transport.Call;
import dev.locallambdas.transport.CallListener;
import dev.locallambdas.transport.Outcome;
import dev.locallambdas.transport.TransportException;
import dev.locallambdas.transport.TransportException.Kind;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.EventLoop;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;

/**
 * One request on a {@link PipeConnection}: the {@link Call} the front door drives and the state of
 * the request's stream. All state is touched on the connection's loop only; the Call methods hop
 * there when the client's loop is another one, and listener events hop back.
 *
 * <p>The stream ends for the listener with {@code end} or {@code failed} (or nothing, once
 * cancelled), and for the instance with the child's final frame: only then, or when the gateway
 * gives up on the child (timeout, broken connection, a 1.0 child that cannot acknowledge a RESET),
 * is the call released.
 */
final class PipeStream implements Call, ChannelFutureListener {
  private final PipeConnection connection;
  private final Request request;
  private final long timeoutMillis;
  private final EventLoop clientLoop;
  private final CallListener listener;

  int id;

  /** What the listener has been told. */
  private enum Told {
    NOTHING,
    HEAD,
    DONE
  }

  private Told told = Told.NOTHING;
  private Cancel cancelled;
  private boolean childDone;
  private boolean released;
  private boolean headWritten;

  /** True while {@link PipeConnection#open} starts this stream inline: events wait a turn. */
  private boolean starting;

  /**
   * A head without END_STREAM waits for the next frame, which tells whether the length is known.
   */
  private int heldStatus;

  private Headers heldHeaders;

  // Request body: pieces waiting for the window (1.1) or for the socket.
  private final ArrayDeque<ByteBuf> pending = new ArrayDeque<>(2);
  private boolean pendingLast;
  private boolean bodyOpen;
  private boolean bodyWritable = true;
  private boolean flushing;
  private long sendWindow;

  // Request body through a shared-memory slot (protocol section 8): the gateway slot being
  // filled or in flight (-1: none), how many bytes are in it, and whether its doorbell went out.
  private int slot = -1;
  private int slotFill;
  private boolean slotSent;

  // Response body flow control.
  private long receiveWindow;
  private long consumedSinceCredit;
  private long unconsumed;

  /**
   * Response pieces not yet consumed, in order, once a slot piece came: frame bytes positive, slot
   * bytes negative. Only frame bytes are credited (a slot is its own flow control); null while
   * every piece was a frame.
   */
  private ArrayDeque<Integer> pieces;

  PipeStream(
      PipeConnection connection,
      Request request,
      long timeoutMillis,
      EventLoop clientLoop,
      CallListener listener) {
    this.connection = connection;
    this.request = request;
    this.timeoutMillis = timeoutMillis;
    this.clientLoop = clientLoop;
    this.listener = listener;
  }

  // ---------------------------------------------------------------- the Call, on the client's loop

  @Override
  public void body(ByteBuf content, boolean last) {
    onConnectionLoop(() -> sendBody(content, last));
  }

  @Override
  public void consumed(int bytes) {
    onConnectionLoop(() -> onConsumed(bytes));
  }

  @Override
  public void cancel(Cancel why) {
    onConnectionLoop(() -> onCancel(why));
  }

  private void onConnectionLoop(Runnable task) {
    EventLoop loop = connection.loop();
    if (loop.inEventLoop()) {
      task.run();
    } else {
      loop.execute(task);
    }
  }

  private void toListener(Runnable event) {
    if (clientLoop.inEventLoop() && !starting) {
      event.run();
    } else {
      clientLoop.execute(event);
    }
  }

  // ---------------------------------------------------------------- starting

  /** Called once on the connection's loop, after the stream got its id. */
  void start(int version, int window) {
    sendWindow = window;
    receiveWindow = window;
    bodyOpen = request.hasBody();
    long deadline = version >= FrameCodec.VERSION_2 ? Math.max(0, timeoutMillis) : -1;
    connection.writeHead(this, request, !bodyOpen, deadline);
  }

  Request request() {
    return request;
  }

  void starting(boolean value) {
    starting = value;
  }

  /**
   * The head's write finished: once it reached the socket, a failure may have reached the child.
   */
  @Override
  public void operationComplete(ChannelFuture f) {
    if (f.isSuccess()) {
      headWritten = true;
    } else {
      connection.fail(
          new TransportException(
              Kind.CHILD_FAILED,
              connection.label() + ": writing to the child failed: " + f.cause().getMessage(),
              f.cause()));
    }
  }

  boolean finished() {
    return childDone;
  }

  // ---------------------------------------------------------------- request body

  private void sendBody(ByteBuf content, boolean last) {
    if (!bodyOpen || cancelled != null || released) {
      content.release();
      return;
    }
    if (content.isReadable() || last) {
      pending.add(content);
    } else {
      content.release();
    }
    pendingLast |= last;
    flushBody();
  }

  /**
   * Sends what the window and the socket allow; tells the listener when it must wait. Writing can
   * change the socket's writability, which calls back here: the flag keeps that from re-entering.
   */
  void flushBody() {
    if (!bodyOpen || flushing) {
      return;
    }
    flushing = true;
    boolean limited = connection.version() >= FrameCodec.VERSION_2;
    boolean wrote = false;
    try {
      if (flushToSlot()) {
        return;
      }
      while (bodyOpen && !pending.isEmpty() && connection.isWritable()) {
        ByteBuf next = pending.peek();
        boolean lastPiece = pendingLast && pending.size() == 1;
        int readable = next.readableBytes();
        if (readable == 0) {
          pending.poll().release();
          if (lastPiece) {
            connection.writeBody(this, null, true);
            wrote = true;
            bodyOpen = false;
          }
          continue;
        }
        int n = Math.min(readable, FrameCodec.BODY_CHUNK);
        if (limited) {
          if (sendWindow <= 0) {
            break;
          }
          n = (int) Math.min(n, sendWindow);
          sendWindow -= n;
        }
        boolean end = lastPiece && n == readable;
        ByteBuf slice = next.readRetainedSlice(n);
        if (!next.isReadable()) {
          pending.poll().release();
        }
        if (end) {
          bodyOpen = false;
        }
        connection.writeBody(this, slice, end);
        wrote = true;
      }
      if (wrote) {
        connection.flush();
      }
    } finally {
      flushing = false;
      updateWritable();
    }
  }

  /**
   * Carries the pending body through a gateway slot when the connection has shared memory and the
   * body is large enough (its declared length, or for a chunked body the bytes waiting, reaches the
   * threshold) and a slot is free. Rings when the slot is full, when the body ends, or at once for
   * a chunked body (so that it still streams); while the doorbell waits for the child's release,
   * new pieces wait in {@code pending}. Returns false when frames should carry it.
   */
  private boolean flushToSlot() {
    ShmBodies shm = connection.shm();
    if (shm == null || !shm.usable()) {
      return false;
    }
    if (slotSent) {
      return true; // one slot in flight per request: wait for its release
    }
    long declared = request.bodyLength();
    if (slot < 0) {
      long waiting = 0;
      for (ByteBuf b : pending) {
        waiting += b.readableBytes();
      }
      boolean large = declared > 0 ? declared >= shm.threshold() : waiting >= shm.threshold();
      if (!large || waiting == 0 || (slot = shm.acquire(this)) < 0) {
        return false;
      }
      slotFill = 0;
    }
    ByteBuffer view = shm.view(slot);
    int size = shm.slotSize();
    while (!pending.isEmpty() && slotFill < size) {
      ByteBuf next = pending.peek();
      int n = Math.min(next.readableBytes(), size - slotFill);
      if (n > 0) {
        view.limit(slotFill + n).position(slotFill);
        next.readBytes(view);
        slotFill += n;
      }
      if (!next.isReadable()) {
        pending.poll().release();
      }
    }
    boolean end = pendingLast && pending.isEmpty();
    if (slotFill == 0) {
      if (end) { // an empty last piece: no slot needed for nothing
        shm.abandon(slot);
        slot = -1;
        bodyOpen = false;
        connection.writeBody(this, null, true);
        connection.flush();
      }
      return true;
    }
    if (slotFill == size || end || declared < 0) {
      long generation = shm.send(slot);
      slotSent = true;
      if (end) {
        bodyOpen = false;
      }
      connection.writeShmBody(this, slot, generation, slotFill, end);
      connection.flush();
    }
    return true;
  }

  /** The child released this stream's slot: the next piece may go. */
  void slotReleased() {
    slot = -1;
    slotSent = false;
    slotFill = 0;
    flushBody();
  }

  /** Called by the connection when the socket's writability changed. */
  void updateWritable() {
    boolean writable = !bodyOpen || (pending.isEmpty() && connection.isWritable());
    if (writable != bodyWritable && cancelled == null && told != Told.DONE) {
      bodyWritable = writable;
      toListener(() -> listener.bodyWritable(writable));
    }
  }

  boolean sendingBody() {
    return bodyOpen;
  }

  /** A CREDIT from the child (1.1). */
  void credit(int increment) throws FrameException {
    if (sendWindow + increment > FrameCodec.MAX_WINDOW) {
      throw new FrameException(
          "CREDIT of " + increment + " grows the window of request " + id + " past 2^31-1");
    }
    sendWindow += increment;
    flushBody();
  }

  private void dropBody() {
    bodyOpen = false;
    if (slot >= 0 && !slotSent) {
      connection.shm().abandon(slot); // a SENT one stays the child's until it releases it
      slot = -1;
    }
    ByteBuf b;
    while ((b = pending.poll()) != null) {
      b.release();
    }
  }

  // ---------------------------------------------------------------- response

  /** A RESPONSE_HEAD. The payload is released by the caller. */
  void responseHead(ByteBuffer payload, boolean endStream) throws FrameException {
    if (cancelled != null) {
      if (endStream) {
        childFinished(Outcome.FAILED);
      }
      return;
    }
    if (heldHeaders != null || told != Told.NOTHING) {
      throw new FrameException("second RESPONSE_HEAD for request " + id);
    }
    FrameCodec.ResponseHead head = FrameCodec.decodeResponseHead(payload);
    if (endStream) {
      deliverHead(head.status(), head.headers(), 0);
      finishResponse();
    } else {
      heldStatus = head.status();
      heldHeaders = head.headers();
    }
  }

  /** A RESPONSE_BODY; ownership of {@code payload} passes here. */
  void responseBody(ByteBuf payload, boolean endStream) throws FrameException {
    responsePiece(payload, endStream, false);
  }

  /**
   * An SHM_BODY's bytes (already checked against the slot's state), as a buffer over the slot whose
   * release gives the slot back; ownership passes here. Not counted in the window.
   */
  void responseSlot(ByteBuf payload, boolean endStream) throws FrameException {
    responsePiece(payload, endStream, true);
  }

  private void responsePiece(ByteBuf payload, boolean endStream, boolean inSlot)
      throws FrameException {
    if (heldHeaders == null && told == Told.NOTHING && cancelled == null) {
      payload.release();
      String frame = inSlot ? "SHM_BODY" : "RESPONSE_BODY";
      throw new FrameException(frame + " before RESPONSE_HEAD for request " + id);
    }
    int n = payload.readableBytes();
    if (!inSlot && connection.version() >= FrameCodec.VERSION_2) {
      receiveWindow -= n;
      if (receiveWindow < 0) {
        payload.release();
        throw new FrameException(
            "request " + id + " got " + -receiveWindow + " body bytes more than its window");
      }
    }
    if (cancelled != null) {
      payload.release();
      if (endStream) {
        childFinished(Outcome.FAILED);
      }
      return;
    }
    if (heldHeaders != null) {
      // A whole body in one frame (the common small response) gets a Content-Length.
      Headers h = heldHeaders;
      heldHeaders = null;
      deliverHead(heldStatus, h, endStream ? n : -1);
    }
    if (n > 0) {
      if (inSlot && pieces == null) {
        pieces = new ArrayDeque<>();
        if (unconsumed > 0) {
          pieces.add((int) unconsumed);
        }
      }
      if (pieces != null) {
        pieces.add(inSlot ? -n : n);
      }
      unconsumed += n;
      connection.delivered(n);
      toListener(() -> listener.body(payload));
    } else {
      payload.release();
    }
    if (endStream) {
      finishResponse();
    }
  }

  /** A RESET from the child: an acknowledgement of ours, or the child aborting the request. */
  void childReset(String reason) {
    if (cancelled == null && told != Told.DONE) {
      told = Told.DONE;
      TransportException e =
          new TransportException(
              Kind.RESET,
              connection.label()
                  + ": child reset the request"
                  + (reason.isEmpty() ? "" : ": " + clip(reason)));
      toListener(() -> listener.failed(e));
    }
    childFinished(Outcome.FAILED);
  }

  private void deliverHead(int status, Headers headers, long length) {
    told = Told.HEAD;
    toListener(() -> listener.head(status, headers, length));
  }

  private void finishResponse() {
    told = Told.DONE;
    dropBody();
    toListener(listener::end);
    childFinished(Outcome.OK);
  }

  /** The child's final frame arrived; {@code outcome} is what it means when not cancelled. */
  private void childFinished(Outcome outcome) {
    childDone = true;
    connection.finished(this);
    release(
        cancelled == Cancel.TIMEOUT ? Outcome.HUNG : cancelled != null ? Outcome.FAILED : outcome);
  }

  private void onConsumed(int bytes) {
    long n = Math.min(bytes, unconsumed);
    if (n <= 0) {
      return;
    }
    unconsumed -= n;
    connection.consumed(n);
    long frameBytes = pieces == null ? n : consumeFramePieces(n);
    if (connection.version() >= FrameCodec.VERSION_2
        && !childDone
        && cancelled == null
        && frameBytes > 0) {
      consumedSinceCredit += frameBytes;
      if (consumedSinceCredit >= connection.window() / 2) {
        int credit = (int) consumedSinceCredit;
        consumedSinceCredit = 0;
        receiveWindow += credit;
        connection.writeCredit(this, credit);
      }
    }
  }

  /** Takes {@code n} consumed bytes off {@link #pieces}; returns how many were frame bytes. */
  private long consumeFramePieces(long n) {
    long frames = 0;
    long left = n;
    while (left > 0 && !pieces.isEmpty()) {
      int piece = pieces.poll();
      int size = Math.abs(piece);
      int taken = (int) Math.min(size, left);
      if (piece > 0) {
        frames += taken;
      }
      left -= taken;
      if (taken < size) {
        pieces.addFirst(piece > 0 ? size - taken : -(size - taken));
      }
    }
    return frames;
  }

  // ---------------------------------------------------------------- ending

  private void onCancel(Cancel why) {
    if (released) {
      return;
    }
    boolean first = cancelled == null;
    if (first || why == Cancel.TIMEOUT) {
      cancelled = why;
    }
    told = Told.DONE;
    dropBody();
    if (first && !childDone) {
      connection.writeReset(
          this,
          why == Cancel.TIMEOUT
              ? "request timed out in the gateway"
              : "request cancelled by the gateway: the client went away");
    }
    if (why == Cancel.TIMEOUT || connection.version() < FrameCodec.VERSION_2) {
      // A 1.0 child cannot acknowledge; a timed-out one is stopped anyway: let go now, and
      // ignore what the child still sends for this id.
      connection.abandon(this);
      release(why == Cancel.TIMEOUT ? Outcome.HUNG : Outcome.FAILED);
    }
  }

  /** The connection broke: tell the listener (unless it stopped listening) and let go. */
  void connectionFailed(TransportException cause) {
    if (released) {
      return;
    }
    dropBody();
    if (cancelled == null && told != Told.DONE) {
      boolean reached = headWritten || told == Told.HEAD;
      told = Told.DONE;
      TransportException e =
          reached
              ? new TransportException(cause.kind(), cause.getMessage(), cause)
              : new TransportException(Kind.NOT_DELIVERED, cause.getMessage(), cause);
      toListener(() -> listener.failed(e));
    }
    release(cancelled == Cancel.TIMEOUT ? Outcome.HUNG : Outcome.BROKEN);
  }

  /** Refused before it started (connection failed, too many calls): reported on a later turn. */
  void refuse(TransportException cause, Outcome outcome) {
    told = Told.DONE;
    released = true;
    clientLoop.execute(
        () -> {
          listener.failed(cause);
          listener.released(outcome);
        });
  }

  private void release(Outcome outcome) {
    if (released) {
      return;
    }
    released = true;
    connection.consumed(unconsumed);
    unconsumed = 0;
    connection.released(this);
    toListener(() -> listener.released(outcome));
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

  @Override
  public String toString() {
    return connection.label() + " stream " + id;
  }
}
