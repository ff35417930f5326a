package dev.locallambdas.transport.lambda;

import dev.locallambdas.exchange.Headers;
import dev.locallambdas.exchange.Request;
import dev.locallambdas.transport.Call;
import dev.locallambdas.transport.CallListener;
import dev.locallambdas.transport.Outcome;
import dev.locallambdas.transport.TransportException;
import dev.locallambdas.transport.TransportException.Kind;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One request to a Lambda environment. On the client's loop it gathers the request body (a Lambda
 * event carries the whole body) and turns it into the event; on the environment's loop it is handed
 * to the runtime and answered; every listener event hops back to the client's loop, where nothing
 * reaches the listener after a cancel except {@link CallListener#released}.
 *
 * <p>An Invoke API request ({@link InvokeApi}) passes its payload and result through unchanged and
 * answers as the Invoke API does: a handler error is a 200 with X-Amz-Function-Error, an Event
 * invocation is answered 202 as soon as it is handed over, a DryRun 204 without running anything.
 */
final class Invocation implements Call {
  private final Environment env;
  private final Request request;
  private final EventLoop clientLoop;
  private final CallListener listener;
  private final String id = UUID.randomUUID().toString();
  private final long deadlineEpochMillis;
  private final AtomicBoolean released = new AtomicBoolean();
  private final boolean invoke;

  // On the client's loop.
  private CompositeByteBuf body;
  private boolean submitted;
  private boolean cancelled;

  // Written on the client's loop before the hop to the environment's loop, read there after it.
  private byte[] event;
  private volatile boolean answered;

  // The Invoke API's log tail (X-Amz-Log-Type: Tail), or null; its timing on the env's loop.
  private final LogTail tail;
  private long startedNanos;

  // On the environment's loop: the streamed response, while the runtime sends it.
  private ResponseStream stream;

  Invocation(
      Environment env,
      Request request,
      long timeoutMillis,
      EventLoop clientLoop,
      CallListener listener) {
    this.env = env;
    this.request = request;
    this.clientLoop = clientLoop;
    this.listener = listener;
    // Wall-clock time, because that is what the header means to the runtime; the gateway's own
    // deadline is the request timeout the front door runs on its clock.
    long now = System.currentTimeMillis();
    this.deadlineEpochMillis = now + (timeoutMillis > 0 ? timeoutMillis : 900_000);
    this.invoke = InvokeApi.functionName(request.path()) != null;
    this.tail =
        invoke && "Tail".equalsIgnoreCase(request.headers().get("x-amz-log-type"))
            ? new LogTail()
            : null;
    if (!request.hasBody()) {
      clientLoop.execute(this::submit); // never from inside open
    }
  }

  String id() {
    return id;
  }

  /** An Invoke API request: payload and result pass through unchanged. */
  boolean isInvoke() {
    return invoke;
  }

  // ------------------------------------------------------------------ the client's loop

  @Override
  public void body(ByteBuf content, boolean last) {
    if (cancelled || submitted) {
      content.release();
      return;
    }
    if (body == null) {
      body = Unpooled.compositeBuffer(64);
    }
    if (content.isReadable()) {
      body.addComponent(true, content);
    } else {
      content.release();
    }
    if (last) {
      submit();
    }
  }

  private void submit() {
    if (cancelled || submitted) {
      return;
    }
    submitted = true;
    byte[] bytes = new byte[0];
    if (body != null) {
      bytes = ByteBufUtil.getBytes(body);
      body.release();
      body = null;
    }
    if (!invoke) {
      event = Events.build(env.function().event(), request, bytes, id, env.aws());
      onEnv(() -> env.submit(this));
      return;
    }
    event = bytes.length == 0 ? "{}".getBytes(StandardCharsets.US_ASCII) : bytes;
    String type = request.headers().get("x-amz-invocation-type");
    switch (type == null ? "RequestResponse" : type) {
      case "RequestResponse" -> onEnv(() -> env.submit(this));
      case "Event" -> {
        // Queued for asynchronous invocation, as Lambda answers; the slot is held until it ran.
        answer(202, invokeHeaders().build(), new byte[0]);
        onEnv(() -> env.submit(this));
      }
      case "DryRun" -> {
        answer(204, invokeHeaders().build(), new byte[0]);
        released(Outcome.OK);
      }
      default -> {
        answer(
            400,
            invokeHeaders()
                .add("x-amzn-errortype", "InvalidParameterValueException")
                .add("content-type", "application/json")
                .build(),
            RuntimeAnswer.error(
                    400,
                    "InvalidParameterValueException",
                    "X-Amz-Invocation-Type must be RequestResponse, Event or DryRun, not " + type)
                .json()
                .getBytes(StandardCharsets.UTF_8));
        released(Outcome.OK);
      }
    }
  }

  private Headers.Builder invokeHeaders() {
    return Headers.builder().add("x-amzn-requestid", id).add("x-amz-executed-version", Aws.VERSION);
  }

  /** Sends a whole response to the client (on its loop), at most once. */
  private void answer(int status, Headers headers, byte[] body) {
    if (answered) {
      return;
    }
    answered = true;
    toClient(
        () -> {
          listener.head(status, headers, body.length);
          if (body.length > 0) {
            listener.body(Unpooled.wrappedBuffer(body));
          }
          listener.end();
        });
  }

  @Override
  public void consumed(int bytes) {
    // A buffered response is in memory already (at most Lambda's 6 MB): nothing to pace. A
    // streamed one is paced by what the client takes.
    onEnv(
        () -> {
          if (stream != null) {
            stream.consumed(bytes);
          }
        });
  }

  @Override
  public void cancel(Cancel why) {
    boolean first = !cancelled;
    cancelled = true;
    if (body != null) {
      body.release();
      body = null;
    }
    if (!submitted) {
      if (first) {
        released(Outcome.FAILED);
      }
      return;
    }
    onEnv(() -> env.cancel(this, why));
  }

  private void onEnv(Runnable task) {
    EventLoop loop = env.envLoop();
    if (loop.inEventLoop()) {
      task.run();
    } else {
      loop.execute(task);
    }
  }

  /** A piece of body to the client; released instead when the client has gone. */
  private void toClientBody(ByteBuf piece) {
    clientLoop.execute(
        () -> {
          if (cancelled) {
            piece.release();
          } else {
            listener.body(piece);
          }
        });
  }

  private void toClient(Runnable event) {
    clientLoop.execute(
        () -> {
          if (!cancelled) {
            event.run();
          }
        });
  }

  // ------------------------------------------------------------------ the environment's loop

  /** The answer to the runtime's {@code GET /next} that hands it this invocation. */
  FullHttpResponse nextResponse() {
    FullHttpResponse r =
        new DefaultFullHttpResponse(
            HttpVersion.HTTP_1_1, HttpResponseStatus.OK, Unpooled.wrappedBuffer(event));
    r.headers()
        .set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON)
        .setInt(HttpHeaderNames.CONTENT_LENGTH, event.length)
        .set("Lambda-Runtime-Aws-Request-Id", id)
        .set("Lambda-Runtime-Deadline-Ms", Long.toString(deadlineEpochMillis))
        .set("Lambda-Runtime-Invoked-Function-Arn", env.aws().functionArn())
        .set("Lambda-Runtime-Trace-Id", traceId());
    return r;
  }

  /** Handed to the runtime: its log lines from now on are this invocation's (for a log tail). */
  void started() {
    startedNanos = System.nanoTime();
    if (tail != null) {
      tail.add("START RequestId: " + id + " Version: " + Aws.VERSION);
      env.tail(tail);
    }
  }

  /**
   * Runs {@code answer} with the headers of the log tail added, if one was asked for. The runtime
   * writes its log lines before it posts its result, but they reach the gateway on another path
   * (its stdout, drained by another thread): lines still in that pipe are waited for {@link
   * #TAIL_GRACE_MILLIS}, only for invocations that asked for their log.
   */
  private void withLog(Headers.Builder headers, java.util.function.Consumer<Headers> answer) {
    if (tail == null) {
      answer.accept(headers.build());
      return;
    }
    long micros = (System.nanoTime() - startedNanos) / 1000;
    env.envLoop()
        .schedule(
            () -> {
              env.untail(tail);
              tail.add("END RequestId: " + id);
              tail.add(
                  String.format(
                      java.util.Locale.ROOT,
                      "REPORT RequestId: %s\tDuration: %.2f ms\tBilled Duration: %d ms\t"
                          + "Memory Size: %d MB",
                      id,
                      micros / 1000.0,
                      Math.max(1, (micros + 999) / 1000),
                      env.function().memoryMb()));
              answer.accept(headers.add("x-amz-log-result", tail.result()).build());
            },
            TAIL_GRACE_MILLIS,
            java.util.concurrent.TimeUnit.MILLISECONDS);
  }

  static final long TAIL_GRACE_MILLIS = 50;

  /** An X-Ray trace header as Lambda sends it (not sampled: nothing here collects traces). */
  private static String traceId() {
    ThreadLocalRandom r = ThreadLocalRandom.current();
    HexFormat hex = HexFormat.of();
    byte[] root = new byte[12];
    byte[] parent = new byte[8];
    r.nextBytes(root);
    r.nextBytes(parent);
    return "Root=1-"
        + Long.toHexString(System.currentTimeMillis() / 1000)
        + "-"
        + hex.formatHex(root)
        + ";Parent="
        + hex.formatHex(parent)
        + ";Sampled=0";
  }

  // ------------------------------------------------------------------ a streamed response

  /** The runtime started streaming its response on {@code runtime}. */
  ResponseStream streamStarted(io.netty.channel.Channel runtime, String contentType) {
    stream = new ResponseStream(this, runtime, contentType);
    return stream;
  }

  /** The gateway no longer waits for the stream (client gone, deadline passed): drop the rest. */
  void abandonStream() {
    if (stream != null) {
      stream.abandon();
    }
  }

  void streamHead(int status, Headers headers) {
    answered = true;
    Headers h = headers;
    if (invoke) {
      Headers.Builder b = invokeHeaders();
      for (int i = 0; i < headers.size(); i++) {
        b.add(headers.name(i), headers.value(i));
      }
      h = b.build();
    }
    Headers head = h;
    toClient(() -> listener.head(status, head, -1));
  }

  void streamBody(ByteBuf piece) {
    toClientBody(piece);
  }

  void streamEnd() {
    toClient(listener::end);
    released(Outcome.OK);
  }

  /** The stream failed after its head: the client's response is cut off. */
  void streamFailed(TransportException e) {
    toClient(() -> listener.failed(e));
    released(e.kind() == Kind.CHILD_FAILED ? Outcome.BROKEN : Outcome.FAILED);
  }

  /** The runtime posted the handler's result. */
  void succeeded(byte[] payload) {
    if (invoke) {
      withLog(
          invokeHeaders().add("content-type", "application/json"),
          h -> {
            answer(200, h, payload);
            released(Outcome.OK);
          });
      return;
    }
    HttpAnswer mapped;
    try {
      mapped = Responses.map(env.function().event(), payload);
    } catch (Responses.MalformedException e) {
      failed(new TransportException(Kind.RESET, e.getMessage()));
      return;
    }
    answer(mapped.status(), mapped.headers(), mapped.body());
    released(Outcome.OK);
  }

  /** The runtime posted the handler's error. */
  void handlerFailed(LambdaError error) {
    if (invoke) {
      functionError(error.raw().length > 0 ? error.raw() : error.document());
      return;
    }
    toClient(() -> listener.failed(new TransportException(Kind.HANDLER_ERROR, error.describe())));
    released(Outcome.FAILED);
  }

  /** The runtime posted a response over Lambda's limit of {@code limit} bytes. */
  void tooLarge(long bytes, int limit) {
    if (invoke) {
      functionError(
          RuntimeAnswer.error(
                  200,
                  "Function.ResponseSizeTooLarge",
                  "Response payload size exceeded maximum allowed payload size ("
                      + limit
                      + " bytes).")
              .json()
              .getBytes(StandardCharsets.UTF_8));
      return;
    }
    failed(
        new TransportException(
            Kind.RESET,
            "its response of "
                + (bytes < 0 ? "more than " + limit : bytes)
                + " bytes is over Lambda's limit of "
                + limit
                + " bytes (Function.ResponseSizeTooLarge)"));
  }

  /** The Invoke API's answer to a function error: 200, X-Amz-Function-Error, the error document. */
  private void functionError(byte[] document) {
    withLog(
        invokeHeaders()
            .add("x-amz-function-error", "Unhandled")
            .add("content-type", "application/json"),
        h -> {
          answer(200, h, document);
          released(Outcome.FAILED);
        });
  }

  /** The invocation failed for a reason of its own; the environment is fine. */
  void failed(TransportException e) {
    if (!answered) {
      toClient(() -> listener.failed(e));
    }
    released(Outcome.FAILED);
  }

  /** The environment broke or closed under the invocation. */
  void lost(TransportException e) {
    if (stream != null && !stream.isDone()) {
      stream.abandon();
      toClient(() -> listener.failed(e)); // cuts off a response whose head went out
    } else if (!answered) {
      toClient(() -> listener.failed(e));
    }
    released(Outcome.BROKEN);
  }

  void released(Outcome outcome) {
    if (tail != null) {
      env.untail(tail);
    }
    if (released.compareAndSet(false, true)) {
      clientLoop.execute(() -> listener.released(outcome));
    }
  }
}
