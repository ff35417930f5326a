package dev.locallambdas.frontdoor;

import dev.locallambdas.exchange.Headers;
import dev.locallambdas.exchange.Request;
import dev.locallambdas.transport.Call;
import dev.locallambdas.transport.CallListener;
import dev.locallambdas.transport.Endpoint;
import dev.locallambdas.transport.Outcome;
import dev.locallambdas.transport.TransportException;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.EventLoop;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * An endpoint played by the test: every call it opens waits for the test to answer it, and
 * remembers what the front door did with it (body received, bytes consumed, cancellations). Used on
 * an EmbeddedChannel, where everything runs on the test's thread.
 */
final class ScriptedEndpoint implements Endpoint {
  final ArrayDeque<ScriptedCall> calls = new ArrayDeque<>();
  final List<ScriptedCall> all = new ArrayList<>();

  @Override
  public Map<String, String> environment() {
    return Map.of();
  }

  @Override
  public void awaitReady(Duration timeout, ProcessHandle process) {}

  @Override
  public EventLoop loop() {
    return null;
  }

  @Override
  public Call open(Request request, long timeoutMillis, EventLoop loop, CallListener listener) {
    ScriptedCall c = new ScriptedCall(request, timeoutMillis, listener);
    calls.add(c);
    all.add(c);
    return c;
  }

  /** The oldest call not yet taken by the test. */
  ScriptedCall next() {
    ScriptedCall c = calls.poll();
    if (c == null) {
      throw new AssertionError("no call was opened");
    }
    return c;
  }

  @Override
  public void close() {}

  static final class ScriptedCall implements Call {
    final Request request;
    final long timeoutMillis;
    final CallListener listener;
    final ByteArrayOutputStream body = new ByteArrayOutputStream();
    boolean bodyEnded;
    long consumed;
    final List<Cancel> cancels = new ArrayList<>();

    ScriptedCall(Request request, long timeoutMillis, CallListener listener) {
      this.request = request;
      this.timeoutMillis = timeoutMillis;
      this.listener = listener;
    }

    @Override
    public void body(ByteBuf content, boolean last) {
      try {
        byte[] b = new byte[content.readableBytes()];
        content.readBytes(b);
        body.writeBytes(b);
        bodyEnded |= last;
      } finally {
        content.release();
      }
    }

    @Override
    public void consumed(int bytes) {
      consumed += bytes;
    }

    @Override
    public void cancel(Cancel why) {
      cancels.add(why);
    }

    String bodyText() {
      return body.toString(StandardCharsets.UTF_8);
    }

    // -------------------------------------------------------------- the child's side

    ScriptedCall head(int status, long length, String... namesAndValues) {
      Headers.Builder h = Headers.builder();
      for (int i = 0; i < namesAndValues.length; i += 2) {
        h.add(namesAndValues[i], namesAndValues[i + 1]);
      }
      listener.head(status, h.build(), length);
      return this;
    }

    ScriptedCall chunk(String text) {
      listener.body(Unpooled.copiedBuffer(text, StandardCharsets.UTF_8));
      return this;
    }

    /** A whole response of known length, ended and released OK. */
    void respond(int status, String text) {
      head(status, text.length(), "content-type", "text/plain").chunk(text).end();
    }

    void end() {
      listener.end();
      listener.released(Outcome.OK);
    }

    void fail(TransportException.Kind kind, String message, Outcome outcome) {
      listener.failed(new TransportException(kind, message));
      listener.released(outcome);
    }

    void writable(boolean value) {
      listener.bodyWritable(value);
    }

    void release(Outcome outcome) {
      listener.released(outcome);
    }
  }
}
