package dev.locallambdas.sdk;

import static dev.locallambdas.sdk.Frame.END_STREAM;
import static dev.locallambdas.sdk.Frame.RESPONSE_BODY;
import static dev.locallambdas.sdk.Frame.RESPONSE_HEAD;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/**
 * One request on the connection: runs the handler and sends its response frames. With protocol
 * version 2 it also keeps the request's two flow-control windows and sees to it that the request
 * ends with exactly one final frame: the response's END_STREAM, our RESET, or the RESET that
 * acknowledges the gateway's (docs/protocol.md section 7).
 */
final class Exchange implements Runnable {

  private static final byte[] ACK = "cancelled".getBytes(StandardCharsets.UTF_8);

  final int id;
  final RequestBody body;
  private final Server server;
  private final Request request;
  private final boolean flowControl;

  // Guarded by the server's lock.
  boolean requestEnded;
  boolean responseEnded;

  /** Set when the gateway reset the request or the connection ended; nothing more is sent. */
  private volatile String resetReason;

  // Guarded by this.
  private boolean started;
  private boolean finalSent;
  private long sendWindow;
  private long recvWindow;
  private long unacked; // body bytes the handler consumed that were not credited yet

  // Touched by the handler's thread only.
  private byte[] head;
  private boolean headSent;

  /** Our shared-memory slot whose piece the gateway may still be reading, or -1; its generation. */
  private int slot = -1;

  private long slotGeneration;

  Exchange(
      Server server,
      int id,
      String method,
      String target,
      List<Map.Entry<String, String>> headers,
      long deadlineMillis) {
    this.server = server;
    this.id = id;
    this.flowControl = server.version() >= 2;
    this.sendWindow = server.window();
    this.recvWindow = server.window();
    this.body = new RequestBody(server.sequential() ? server : null, this, !flowControl);
    this.request = new Request(method, target, headers, body, deadlineMillis);
  }

  /**
   * The gateway's RESET. Returns true if it must be acknowledged at once because no handler has
   * taken the request (version 2); otherwise the acknowledgement follows the handler's return.
   */
  boolean cancel(String reason) {
    boolean now;
    synchronized (this) {
      if (finalSent) {
        return false; // it crossed our final frame: ignored
      }
      resetReason = reason;
      notifyAll();
      now = flowControl && !started;
      finalSent |= now;
    }
    body.reset(reason);
    return now;
  }

  /** The connection ended: reading and writing fail from now on. */
  void reset(String reason) {
    synchronized (this) {
      if (resetReason == null) {
        resetReason = reason;
      }
      notifyAll();
    }
    body.reset(reason);
  }

  boolean isReset() {
    return resetReason != null;
  }

  /** CREDIT from the gateway for the response. */
  void credit(long increment) throws ProtocolException {
    synchronized (this) {
      if (sendWindow + increment > Frame.MAX_WINDOW) {
        throw new ProtocolException("CREDIT grows the window of request " + id + " past 2^31-1");
      }
      sendWindow += increment;
      notifyAll();
    }
  }

  /** A REQUEST_BODY frame of length bytes arrived (version 2: it must fit the window). */
  synchronized void received(int length) throws ProtocolException {
    if (flowControl) {
      if (length > recvWindow) {
        throw new ProtocolException(
            "REQUEST_BODY of "
                + length
                + " bytes on request "
                + id
                + " exceeds its window of "
                + recvWindow);
      }
      recvWindow -= length;
    }
  }

  /** The handler consumed count body bytes: CREDIT them once half a window is due. */
  void consumed(int count) throws IOException {
    if (!flowControl || body.ended()) {
      return; // nothing more will come
    }
    long increment;
    synchronized (this) {
      if (finalSent || resetReason != null) {
        return;
      }
      unacked += count;
      if (unacked < server.window() / 2) {
        return;
      }
      increment = unacked;
      unacked = 0;
      recvWindow += increment; // before the CREDIT leaves, so that what it allows always fits
    }
    server.frames().send(Frame.CREDIT, 0, id, new PayloadWriter().u32(increment).toByteArray());
  }

  @Override
  public void run() {
    synchronized (this) {
      started = true;
    }
    if (isReset()) { // reset before it started: already acknowledged (version 2)
      server.finished(this);
      return;
    }
    try {
      Response response = answer();
      if (response != null) {
        send(response);
      }
    } catch (IOException | RuntimeException | Error e) {
      if (!isReset()) {
        report("failed to send the response", e);
        abort(e);
      }
      if (e instanceof Error error && !(e instanceof StackOverflowError)) {
        throw error;
      }
    } finally {
      server.finished(this);
    }
  }

  /** After the handler: acknowledges a RESET that no final frame answered (version 2). */
  void acknowledgeReset() {
    boolean ack;
    synchronized (this) {
      ack = flowControl && resetReason != null && !finalSent;
      finalSent = true;
    }
    if (ack) {
      try {
        server.frames().send(Frame.RESET, 0, id, ACK);
      } catch (IOException e) {
        // The connection is gone: nothing is waiting for the acknowledgement any more.
      }
    }
  }

  /** The handler's response, a 500 if it failed, or null if the request was reset meanwhile. */
  private Response answer() {
    try {
      Response response = server.handler().handle(request);
      if (response == null) {
        throw new NullPointerException("the handler returned null");
      }
      return response;
    } catch (Exception e) {
      if (isReset()) {
        return null;
      }
      report("handler failed", e);
      return internalError();
    }
  }

  private void send(Response response) throws IOException {
    head = response.encodeHead();
    byte[] bytes = response.body();
    if (bytes == null) {
      ResponseOutput out = new ResponseOutput(this, server.chunkSize());
      response.writer().writeTo(out);
      out.finish();
      return;
    }
    // With shared memory, emit cuts the body to slots (or frames) itself.
    int chunk = server.slots() != null ? Math.max(bytes.length, 1) : server.chunkSize();
    int offset = 0;
    do {
      int length = Math.min(chunk, bytes.length - offset);
      emit(bytes, offset, length, offset + length == bytes.length);
      offset += length;
    } while (offset < bytes.length);
  }

  /**
   * Sends body bytes (the head first if it is not sent yet), ending the response if {@code end}.
   * With version 2 the bytes go out as the response window allows, waiting for CREDIT while it is
   * exhausted. Fails once the request is reset, so that a streaming writer stops.
   */
  void emit(byte[] bytes, int offset, int length, boolean end) throws IOException {
    if (headSent) {
      server.checkForReset(this);
    }
    String reason = resetReason;
    if (reason != null) {
      throw new IOException(reason);
    }
    if (headSent && length == 0 && !end) {
      return;
    }
    do {
      SharedSlots slots = server.slots();
      if (slots != null && length >= slots.threshold()) {
        int n = Math.min(length, slots.slotSize());
        if (sendInSlot(slots, bytes, offset, n, end && n == length)) {
          offset += n;
          length -= n;
          continue;
        } // no slot free: this piece goes in frames
      }
      int piece = Math.min(length, server.chunkSize());
      int allowed = flowControl && piece > 0 ? acquire(piece) : piece;
      send(bytes, offset, allowed, end && allowed == length);
      offset += allowed;
      length -= allowed;
    } while (length > 0);
  }

  /** Whether a write of {@code length} bytes should be passed on whole (it may use a slot). */
  boolean takesLargeWrites(int length) {
    SharedSlots slots = server.slots();
    return slots != null && length >= slots.threshold();
  }

  /**
   * Copies a piece into one of our slots and rings SHM_BODY (after the head if it is not sent yet),
   * once the gateway released this request's previous slot. False when no slot is free.
   */
  private boolean sendInSlot(SharedSlots slots, byte[] bytes, int offset, int length, boolean end)
      throws IOException {
    awaitRelease(slots);
    int taken = slots.acquire();
    if (taken < 0) {
      return false;
    }
    long generation = slots.fill(taken, bytes, offset, length);
    synchronized (this) {
      if (resetReason != null) {
        slots.unfill(taken);
        throw new IOException(resetReason);
      }
      finalSent |= end;
    }
    if (end) {
      server.responseEnding(this);
    }
    slot = taken;
    slotGeneration = generation;
    FrameChannel frames = server.frames();
    int flags = end ? END_STREAM : 0;
    ByteBuffer doorbell =
        ByteBuffer.wrap(
            new PayloadWriter().u16(taken).u16(0).u32(generation).u32(length).toByteArray());
    ByteBuffer doorbellHeader = Frame.header(Frame.SHM_BODY, flags, id, 12);
    if (headSent) {
      frames.send(doorbellHeader, doorbell);
    } else {
      headSent = true;
      frames.send(
          Frame.header(RESPONSE_HEAD, 0, id, frames.checked(head.length)),
          ByteBuffer.wrap(head),
          doorbellHeader,
          doorbell);
    }
    return true;
  }

  /** One slot in flight per request: waits for the gateway's SHM_RELEASE of the last one. */
  private void awaitRelease(SharedSlots slots) throws IOException {
    while (slot >= 0) {
      synchronized (slots) {
        if (!slots.inFlight(slot, slotGeneration)) {
          slot = -1;
          return;
        }
        if (!server.sequential()) {
          try {
            slots.wait(100); // woken by the release; the timeout rechecks a reset
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while waiting for SHM_RELEASE");
          }
        }
      }
      String reason = resetReason;
      if (reason != null) {
        throw new IOException(reason);
      }
      if (server.sequential()) {
        server.pumpOne(); // this thread reads the release it waits for
      }
    }
  }

  /** Up to wanted bytes of the response window, waiting for CREDIT while it is 0. */
  private int acquire(int wanted) throws IOException {
    while (true) {
      synchronized (this) {
        if (resetReason != null) {
          throw new IOException(resetReason);
        }
        if (sendWindow > 0) {
          int allowed = (int) Math.min(wanted, sendWindow);
          sendWindow -= allowed;
          return allowed;
        }
        if (!server.sequential()) {
          try {
            wait(); // for credit() or a reset
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while waiting for CREDIT");
          }
          continue;
        }
      }
      server.pumpOne(); // sequential: this thread reads the CREDIT (or RESET) it waits for
    }
  }

  /** One RESPONSE_BODY frame (after the head if it is not sent yet). */
  private void send(byte[] bytes, int offset, int length, boolean end) throws IOException {
    synchronized (this) {
      if (resetReason != null) {
        throw new IOException(resetReason);
      }
      finalSent |= end;
    }
    if (end) {
      server.responseEnding(this);
    }
    FrameChannel frames = server.frames();
    ByteBuffer data = ByteBuffer.wrap(bytes, offset, length);
    int flags = end ? END_STREAM : 0;
    if (headSent) {
      frames.send(Frame.header(RESPONSE_BODY, flags, id, length), data);
      return;
    }
    headSent = true;
    ByteBuffer headFrame =
        Frame.header(RESPONSE_HEAD, length == 0 ? flags : 0, id, frames.checked(head.length));
    if (length == 0) {
      frames.send(headFrame, ByteBuffer.wrap(head));
    } else {
      frames.send(
          headFrame, ByteBuffer.wrap(head), Frame.header(RESPONSE_BODY, flags, id, length), data);
    }
  }

  /** After a failure: a 500 if nothing was sent yet, otherwise a RESET so the cut is visible. */
  private void abort(Throwable cause) {
    try {
      if (!headSent) {
        head = internalError().encodeHead();
        byte[] text = internalError().body();
        emit(text, 0, text.length, true);
      } else {
        synchronized (this) {
          if (resetReason != null) {
            return; // reset meanwhile: acknowledged instead
          }
          finalSent = true;
        }
        server.responseEnding(this);
        String reason = String.valueOf(cause);
        if (reason.length() > 1000) {
          reason = reason.substring(0, 1000);
        }
        server.frames().send(Frame.RESET, 0, id, reason.getBytes(StandardCharsets.UTF_8));
      }
    } catch (IOException | RuntimeException e) {
      // The connection is gone; the gateway fails the request on its own.
    }
  }

  private void report(String what, Throwable e) {
    System.err.println(
        "local-lambdas: " + what + " for " + request.method() + " " + request.target());
    e.printStackTrace();
  }

  private static Response internalError() {
    return Response.text(500, "Internal Server Error\n");
  }
}
