package dev.locallambdas.transport.http;

import dev.locallambdas.exchange.Headers;
import dev.locallambdas.transport.Call;
import dev.locallambdas.transport.CallListener;
import dev.locallambdas.transport.Outcome;
import dev.locallambdas.transport.TransportException;
import io.netty.buffer.ByteBuf;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * A listener for calls on an in-memory channel (everything on the test's thread): records what the
 * front door would see in a form two runs can be compared by, consumes and releases every body
 * piece, and notes contract violations.
 */
final class Transcript implements CallListener {
  final List<String> violations = new ArrayList<>();
  final ByteArrayOutputStream body = new ByteArrayOutputStream();
  Call call;
  int status = -1;
  Headers headers;
  long contentLength = Long.MIN_VALUE;
  boolean ended;
  TransportException failure;
  Outcome released;
  final List<Boolean> writability = new ArrayList<>();

  /** Completes after {@link #released}, for tests on real loops (their events come elsewhere). */
  final CompletableFuture<Outcome> done = new CompletableFuture<>();

  /** Runs inside {@link #released}, as a front door opening its next call would. */
  Runnable then = () -> {};

  /** Everything except how the body was split, for comparing runs. */
  String summary() {
    return "status="
        + status
        + " headers="
        + headers
        + " length="
        + contentLength
        + " body="
        + body.size()
        + "/"
        + java.util.Arrays.hashCode(body.toByteArray())
        + " ended="
        + ended
        + " failure="
        + (failure == null ? null : failure.kind())
        + " released="
        + released;
  }

  private void check(String event) {
    if (released != null) {
      violations.add(event + " after released");
    }
    if ((ended || failure != null) && !event.equals("released")) {
      violations.add(event + " after the response finished");
    }
  }

  @Override
  public void head(int status, Headers headers, long contentLength) {
    check("head");
    if (this.headers != null) {
      violations.add("second head");
    }
    this.status = status;
    this.headers = headers;
    this.contentLength = contentLength;
  }

  @Override
  public void body(ByteBuf content) {
    check("body");
    if (headers == null) {
      violations.add("body before head");
    }
    int n = content.readableBytes();
    byte[] bytes = new byte[n];
    content.readBytes(bytes);
    content.release();
    body.writeBytes(bytes);
    call.consumed(n);
  }

  @Override
  public void end() {
    check("end");
    ended = true;
  }

  @Override
  public void failed(TransportException cause) {
    check("failed");
    failure = cause;
  }

  @Override
  public void bodyWritable(boolean writable) {
    if (released != null) {
      violations.add("bodyWritable after released");
    }
    writability.add(writable);
  }

  @Override
  public void released(Outcome outcome) {
    if (released != null) {
      violations.add("second released");
    }
    released = outcome;
    then.run();
    done.complete(outcome);
  }
}
