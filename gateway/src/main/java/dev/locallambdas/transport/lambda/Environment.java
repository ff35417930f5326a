package dev.locallambdas.transport.lambda;

import dev.locallambdas.exchange.Request;
import dev.locallambdas.manifest.FunctionSpec;
import dev.locallambdas.transport.Call;
import dev.locallambdas.transport.CallListener;
import dev.locallambdas.transport.Endpoint;
import dev.locallambdas.transport.EndpointContext;
import dev.locallambdas.transport.Outcome;
import dev.locallambdas.transport.TransportException;
import dev.locallambdas.transport.TransportException.Kind;
import dev.locallambdas.transport.http.HttpPorts;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpServerCodec;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.logging.Logger;

/**
 * One Lambda execution environment: the Runtime API listener its runtime polls, and the invocations
 * waiting for it, running in it, and recently finished in it. Everything below the constructor runs
 * on the environment's event loop; a parked {@code GET /next} is a channel held in {@link #parked},
 * not a thread.
 *
 * <p>An invocation moves QUEUED (no /next waiting) or straight to RUNNING (handed to a /next), then
 * leaves {@link #running} when the runtime posts its response or error, when the deadline passes
 * (the instance is then stopped), or when the environment closes. What the runtime posts for an id
 * that is not running gets AWS's answers: 403 for one that has just finished, 400 otherwise.
 */
final class Environment implements Endpoint {
  private static final Logger LOG = Logger.getLogger("dev.locallambdas.transport.lambda");

  /** Finished request ids remembered, to tell a second answer (403) from an unknown id (400). */
  private static final int RECENT_IDS = 64;

  /** A runtime's error headers may carry an X-Ray cause of up to 1 MiB (the Java client's). */
  private static final int MAX_HEADER_BYTES = 2 * 1024 * 1024;

  private enum State {
    /** Started; the runtime has not asked for an invocation yet. */
    STARTING,
    /** The runtime has polled /next at least once: it is initialised. */
    READY,
    /** Closed: nothing is accepted any more. */
    CLOSED
  }

  private final EndpointContext context;
  private final EventLoop loop;
  private final Aws aws;
  private final CompletableFuture<Void> ready = new CompletableFuture<>();
  private final CompletableFuture<ProcessHandle> runtime = new CompletableFuture<>();
  private volatile Channel server;
  private volatile int port;

  // On the loop.
  private State state = State.STARTING;
  private final ArrayDeque<ChannelHandlerContext> parked = new ArrayDeque<>();
  private final ArrayDeque<Invocation> queued = new ArrayDeque<>();
  private final Map<String, Invocation> running = new LinkedHashMap<>();
  private final Map<String, Boolean> finished =
      new LinkedHashMap<>(16, 0.75f, false) {
        private static final long serialVersionUID = 1L;

        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
          return size() > RECENT_IDS;
        }
      };
  private final Set<Channel> connections = new HashSet<>();

  // Shared with the thread draining the runtime's output.
  private final java.util.concurrent.CopyOnWriteArrayList<LogTail> tails =
      new java.util.concurrent.CopyOnWriteArrayList<>();
  private final java.util.concurrent.atomic.AtomicInteger tailing =
      new java.util.concurrent.atomic.AtomicInteger();

  private Environment(EndpointContext context, EventLoop loop) {
    this.context = context;
    this.loop = loop;
    this.aws = Aws.of(context.function());
  }

  static Environment listen(EndpointContext context) throws IOException {
    EventLoop loop = context.loop() != null ? context.loop() : context.loops().next();
    Environment env = new Environment(context, loop);
    HttpDecoderConfig decoder =
        new HttpDecoderConfig().setMaxHeaderSize(MAX_HEADER_BYTES).setMaxChunkSize(64 * 1024);
    ServerBootstrap b =
        new ServerBootstrap()
            .group(loop, loop)
            .channel(context.loops().serverSocketChannel())
            .option(ChannelOption.SO_BACKLOG, 16)
            .childOption(ChannelOption.TCP_NODELAY, true)
            .childHandler(
                new ChannelInitializer<Channel>() {
                  @Override
                  protected void initChannel(Channel ch) {
                    env.connections.add(ch);
                    ch.closeFuture().addListener(f -> env.connections.remove(ch));
                    if (env.state == State.CLOSED) {
                      ch.close();
                      return;
                    }
                    ch.pipeline()
                        .addLast("http", new HttpServerCodec(decoder))
                        .addLast("runtime-api", new RuntimeApi(env));
                    ch.config().setAutoRead(false); // until the peer is known to be the runtime
                    Thread.ofVirtual().name("runtime-check").start(() -> env.admit(ch));
                  }
                });
    ChannelFuture bound =
        b.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)).awaitUninterruptibly();
    if (!bound.isSuccess()) {
      throw new IOException(
          context.label() + ": cannot listen for the Lambda Runtime API: " + bound.cause(),
          bound.cause());
    }
    env.server = bound.channel();
    env.port = ((InetSocketAddress) bound.channel().localAddress()).getPort();
    return env;
  }

  /**
   * Lets a connection be read once it is known to come from the runtime's process (or its
   * descendants), by /proc; a connection from any other process gets 403 and is closed, as the
   * Runtime API is the environment's alone. Where that cannot be told, it is let in. Off the loop:
   * /proc is read with blocking I/O.
   */
  private void admit(Channel ch) {
    long start = System.nanoTime();
    Boolean owned = null;
    try {
      ProcessHandle p =
          runtime.get(context.function().startupTimeout().toMillis(), TimeUnit.MILLISECONDS);
      if (ch.remoteAddress() instanceof InetSocketAddress peer) {
        owned = HttpPorts.connectionOwnedBy(port, peer.getPort(), p);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException | TimeoutException e) {
      // The runtime never started: its environment is closing anyway; nothing to tell.
    }
    boolean refuse = Boolean.FALSE.equals(owned);
    Boolean result = owned;
    LOG.fine(
        () ->
            context.label()
                + ": Runtime API connection from "
                + ch.remoteAddress()
                + (result == null ? " let in (owner unknown)" : result ? " is the runtime's" : "")
                + ", checked in "
                + (System.nanoTime() - start) / 1000
                + " us");
    ch.eventLoop()
        .execute(
            () -> {
              if (refuse) {
                LOG.warning(
                    context.label()
                        + ": refused a Runtime API connection from "
                        + ch.remoteAddress()
                        + ": it is not the runtime's process");
                if (ch.pipeline().get("runtime-api") instanceof RuntimeApi api) {
                  api.refuse(); // every request then gets 403, and the connection is closed
                }
              }
              ch.config().setAutoRead(true);
            });
  }

  /** The runtime's process: only it (and what it starts) may use this Runtime API. */
  void started(ProcessHandle process) {
    runtime.complete(process);
  }

  String label() {
    return context.label();
  }

  FunctionSpec function() {
    return context.function();
  }

  Aws aws() {
    return aws;
  }

  EventLoop envLoop() {
    return loop;
  }

  // ------------------------------------------------------------------ Endpoint

  /**
   * What AWS sets in an execution environment (the reserved variables of the Lambda documentation),
   * except where the manifest's {@code <env>} says otherwise; the Runtime API address always wins.
   */
  @Override
  public Map<String, String> environment() {
    FunctionSpec spec = context.function();
    Path taskRoot = spec.workingDir() != null ? spec.workingDir() : Path.of("").toAbsolutePath();
    Map<String, String> env = new LinkedHashMap<>();
    if (spec.handler() != null) {
      env.put("_HANDLER", spec.handler());
    }
    env.put("AWS_LAMBDA_FUNCTION_NAME", spec.id());
    env.put("AWS_LAMBDA_FUNCTION_VERSION", Aws.VERSION);
    env.put("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", Integer.toString(spec.memoryMb()));
    env.put("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand");
    env.put("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/" + spec.id());
    env.put(
        "AWS_LAMBDA_LOG_STREAM_NAME",
        LocalDate.now(ZoneOffset.UTC).format(DateTimeFormatter.ofPattern("yyyy/MM/dd"))
            + "/["
            + Aws.VERSION
            + "]"
            + UUID.randomUUID().toString().replace("-", ""));
    env.put("AWS_REGION", aws.region());
    env.put("AWS_DEFAULT_REGION", aws.region());
    env.put("LAMBDA_TASK_ROOT", taskRoot.toString());
    env.put("LAMBDA_RUNTIME_DIR", taskRoot.toString());
    env.put("TZ", ":UTC");
    env.keySet().removeAll(spec.env().keySet());
    env.put("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:" + port);
    return env;
  }

  /** Ready when the runtime first asks for an invocation: it has loaded the handler by then. */
  @Override
  public void awaitReady(Duration timeout, ProcessHandle process)
      throws IOException, InterruptedException {
    started(process);
    try {
      process
          .onExit()
          .thenRun(
              () ->
                  ready.completeExceptionally(
                      notReady(
                          "the runtime exited before asking for an invocation (GET"
                              + " /2018-06-01/runtime/invocation/next)")));
    } catch (IllegalStateException e) {
      // onExit is refused for the current process (tests), which cannot exit under us anyway.
    }
    try {
      ready.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
      LOG.fine(() -> context.label() + ": runtime polled /next, pid " + process.pid());
    } catch (TimeoutException e) {
      throw notReady(
          "the runtime did not ask for an invocation within "
              + timeout.toMillis()
              + " ms; does it read AWS_LAMBDA_RUNTIME_API?");
    } catch (ExecutionException e) {
      if (e.getCause() instanceof TransportException te) {
        throw te;
      }
      throw new TransportException(
          Kind.NOT_READY, context.label() + ": " + e.getCause().getMessage(), e.getCause());
    }
  }

  private TransportException notReady(String message) {
    return new TransportException(Kind.NOT_READY, context.label() + ": " + message);
  }

  @Override
  public EventLoop loop() {
    return loop;
  }

  @Override
  public Call open(
      Request request, long timeoutMillis, EventLoop clientLoop, CallListener listener) {
    return new Invocation(this, request, timeoutMillis, clientLoop, listener);
  }

  @Override
  public void close() {
    ready.completeExceptionally(notReady("the environment was closed while its runtime started"));
    runtime.completeExceptionally(notReady("closed"));
    Channel s = server;
    if (s != null) {
      s.close();
    }
    try {
      loop.execute(this::closeOnLoop);
    } catch (RejectedExecutionException e) {
      // The loops are shutting down: their channels are closed with them.
    }
  }

  private void closeOnLoop() {
    if (state == State.CLOSED) {
      return;
    }
    state = State.CLOSED;
    List<Invocation> lost = new ArrayList<>(queued);
    lost.addAll(running.values());
    queued.clear();
    running.clear();
    for (Invocation inv : lost) {
      inv.lost(
          new TransportException(
              Kind.CHILD_FAILED, "the environment " + context.label() + " was shut down"));
    }
    // The runtime's own connections are left to its end: the pool signals the process right
    // after closing the endpoint, and a runtime whose poll is cut first reports a failure (the
    // official clients print a stack trace) for what is a normal stop. Whatever is still open
    // after the stop grace (then the process has been killed) is closed here.
    long delay = context.function().stopGrace().toMillis() + 1000;
    try {
      loop.schedule(
          () -> {
            parked.clear();
            for (Channel c : new ArrayList<>(connections)) {
              c.close();
            }
          },
          delay,
          TimeUnit.MILLISECONDS);
    } catch (RejectedExecutionException e) {
      // The loops are shutting down: their channels are closed with them.
    }
  }

  // ------------------------------------------------------------------ invocations (on the loop)

  /** An invocation whose event is complete: hand it to a waiting /next, or queue it. */
  void submit(Invocation inv) {
    if (state == State.CLOSED) {
      inv.lost(new TransportException(Kind.NOT_DELIVERED, context.label() + " is closed"));
      return;
    }
    ChannelHandlerContext next = pollParked();
    if (next == null) {
      queued.add(inv);
    } else {
      deliver(inv, next);
    }
  }

  private ChannelHandlerContext pollParked() {
    ChannelHandlerContext c;
    while ((c = parked.poll()) != null) {
      if (c.channel().isActive()) {
        return c;
      }
    }
    return null;
  }

  private void deliver(Invocation inv, ChannelHandlerContext ctx) {
    running.put(inv.id(), inv);
    inv.started();
    ctx.writeAndFlush(inv.nextResponse())
        .addListener(
            f -> {
              if (!f.isSuccess() && running.remove(inv.id()) == inv) {
                // The runtime's poll broke as the event went out: it may or may not have it.
                finished.put(inv.id(), Boolean.TRUE);
                inv.lost(
                    new TransportException(
                        Kind.CHILD_FAILED,
                        "the runtime's connection broke while the event was sent: " + f.cause()));
              }
            });
  }

  /** GET /next: the runtime is free for one more invocation. */
  void next(ChannelHandlerContext ctx) {
    if (state == State.CLOSED) {
      parked.add(ctx); // never answered: the runtime is being stopped
      return;
    }
    if (state == State.STARTING) {
      state = State.READY;
      ready.complete(null);
    }
    Invocation inv = queued.poll();
    if (inv != null) {
      deliver(inv, ctx);
    } else {
      parked.add(ctx);
    }
  }

  /** A connection closed; a poll parked on it is forgotten. */
  void disconnected(ChannelHandlerContext ctx) {
    parked.remove(ctx);
  }

  /** POST /invocation/ID/response. */
  RuntimeAnswer response(String id, byte[] payload) {
    Invocation inv = running.remove(id);
    if (inv == null) {
      return unknown(id, "InvocationResponse");
    }
    finished.put(id, Boolean.TRUE);
    inv.succeeded(payload);
    return RuntimeAnswer.ACCEPTED;
  }

  /**
   * POST /invocation/ID/response in streaming mode began on {@code runtime}: its pieces go to the
   * client as they come. Null when the id is not running (the body is then dropped and the end
   * answered as for any response to such an id).
   */
  ResponseStream streamStarted(String id, Channel runtime, String contentType) {
    Invocation inv = running.get(id);
    return inv == null ? null : inv.streamStarted(runtime, contentType);
  }

  /** What a response to an id that is not running gets: 403 for a finished one, else 400. */
  RuntimeAnswer notRunning(String id) {
    return unknown(id, "InvocationResponse");
  }

  /** A streamed response ended (its trailers may carry the handler's error). */
  RuntimeAnswer streamEnded(String id, ResponseStream stream, String errorType, String errorBody) {
    Invocation inv = running.remove(id);
    if (inv == null) {
      stream.abandon();
      return unknown(id, "InvocationResponse");
    }
    finished.put(id, Boolean.TRUE);
    stream.end(errorType, errorBody);
    return RuntimeAnswer.ACCEPTED;
  }

  /** The runtime's connection closed while it streamed a response. */
  void streamBroken(String id, ResponseStream stream) {
    if (running.get(id) != null && running.remove(id) != null) {
      finished.put(id, Boolean.TRUE);
    }
    stream.broken();
  }

  /** POST /invocation/ID/response with a payload over Lambda's limit: the invocation fails. */
  RuntimeAnswer responseTooLarge(String id, long bytes) {
    Invocation inv = running.remove(id);
    if (inv == null) {
      return unknown(id, "InvocationResponse");
    }
    finished.put(id, Boolean.TRUE);
    inv.tooLarge(bytes, RuntimeAnswer.MAX_PAYLOAD);
    return RuntimeAnswer.TOO_LARGE;
  }

  /** POST /invocation/ID/error. */
  RuntimeAnswer error(String id, String errorType, byte[] payload) {
    Invocation inv = running.remove(id);
    if (inv == null) {
      return unknown(id, "InvocationErrorResponse");
    }
    finished.put(id, Boolean.TRUE);
    inv.handlerFailed(LambdaError.of(errorType, payload));
    return RuntimeAnswer.ACCEPTED;
  }

  /** POST /init/error: the runtime could not load the function; the start fails with its words. */
  RuntimeAnswer initError(String errorType, byte[] payload) {
    if (state != State.STARTING) {
      return RuntimeAnswer.invalidState(state == State.READY ? "Ready" : "Closed", "InitError");
    }
    LambdaError error = LambdaError.of(errorType, payload);
    LOG.warning(context.label() + ": the runtime reported an init error: " + error.describe());
    ready.completeExceptionally(
        notReady("the runtime reported an init error: " + error.describe()));
    return RuntimeAnswer.ACCEPTED;
  }

  private RuntimeAnswer unknown(String id, String transition) {
    if (finished.containsKey(id)) {
      return RuntimeAnswer.invalidState("InvocationResponse", transition);
    }
    return RuntimeAnswer.INVALID_REQUEST_ID;
  }

  /** The front door gave up on an invocation: a queued one leaves, a timed-out one is stopped. */
  void cancel(Invocation inv, Call.Cancel why) {
    inv.abandonStream(); // a runtime streaming to a client that is gone is read and dropped
    if (queued.remove(inv)) {
      inv.released(why == Call.Cancel.TIMEOUT ? Outcome.HUNG : Outcome.FAILED);
      return;
    }
    if (why == Call.Cancel.TIMEOUT && running.remove(inv.id()) == inv) {
      // Past its deadline: Lambda stops such a handler, so the pool replaces the environment.
      finished.put(inv.id(), Boolean.TRUE);
      inv.released(Outcome.HUNG);
    }
    // A running invocation whose client left finishes in the runtime; its answer is dropped then.
  }

  /**
   * A line of the runtime's output, on the draining thread: it goes to the log tail of every
   * invocation running that asked for one (one, unless AWS_LAMBDA_MAX_CONCURRENCY is set).
   */
  @Override
  public void output(String line) {
    if (tailing.get() > 0) {
      for (LogTail t : tails) {
        t.add(line);
      }
    }
  }

  /** An invocation that wants its log tail is running from now until {@link #untail}. */
  void tail(LogTail t) {
    tails.add(t);
    tailing.incrementAndGet();
  }

  void untail(LogTail t) {
    if (tails.remove(t)) {
      tailing.decrementAndGet();
    }
  }

  /** For tests: the port of the Runtime API. */
  int port() {
    return port;
  }
}
