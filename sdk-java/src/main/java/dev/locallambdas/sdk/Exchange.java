package dev.locallambdas.sdk;

import static dev.locallambdas.sdk.Frame.END_STREAM;
import static dev.locallambdas.sdk.Frame.RESPONSE_BODY;
import static dev.locallambdas.sdk.Frame.RESPONSE_HEAD;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/** One request on the connection: runs the handler and sends its response frames. */
final class Exchange implements Runnable {

  final int id;
  final RequestBody body;
  private final Server server;
  private final Request request;

  // Guarded by the server's lock.
  boolean requestEnded;
  boolean responseEnded;

  /** Set when the gateway reset the request or the connection ended; nothing more is sent. */
  private volatile String resetReason;

  // Touched by the handler's thread only.
  private byte[] head;
  private boolean headSent;

  Exchange(
      Server server,
      int id,
      String method,
      String target,
      List<Map.Entry<String, String>> headers) {
    this.server = server;
    this.id = id;
    this.body = new RequestBody(server.sequential() ? server : null);
    this.request = new Request(method, target, headers, body);
  }

  void reset(String reason) {
    resetReason = reason;
    body.reset(reason);
  }

  boolean isReset() {
    return resetReason != null;
  }

  @Override
  public void run() {
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
    int chunk = server.chunkSize();
    int offset = 0;
    do {
      int length = Math.min(chunk, bytes.length - offset);
      emit(bytes, offset, length, offset + length == bytes.length);
      offset += length;
    } while (offset < bytes.length);
  }

  /**
   * Sends body bytes (the head first if it is not sent yet), ending the response if {@code end}.
   * Fails once the request is reset, so that a streaming writer stops.
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
