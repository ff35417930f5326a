package dev.locallambdas.transport.pipe;

import dev.locallambdas.exchange.Request;
import dev.locallambdas.loops.EventLoops;
import dev.locallambdas.manifest.FunctionSpec;
import dev.locallambdas.manifest.SharedMemory;
import dev.locallambdas.transport.Call;
import dev.locallambdas.transport.CallListener;
import dev.locallambdas.transport.Endpoint;
import dev.locallambdas.transport.EndpointContext;
import dev.locallambdas.transport.Outcome;
import dev.locallambdas.transport.TransportException;
import dev.locallambdas.transport.TransportException.Kind;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.WriteBufferWaterMark;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * A pipe instance's endpoint: a listening Unix socket in the run directory until the child has
 * connected, then the {@link PipeConnection} on the instance's event loop. The socket file is
 * removed the moment the child is in, so nobody else can connect later; a second connection that
 * slipped in before is closed.
 */
final class PipeEndpoint implements Endpoint {
  private static final Logger LOG = Logger.getLogger("dev.locallambdas.transport.pipe");

  private final EndpointContext context;
  private final Path socketPath;
  private final EventLoop loop;
  private final CompletableFuture<PipeConnection> ready = new CompletableFuture<>();
  private final AtomicBoolean accepted = new AtomicBoolean();
  private final AtomicBoolean closed = new AtomicBoolean();
  private volatile Channel server;
  private volatile PipeConnection connection;

  /** The shared-memory segment until the handshake takes it (protocol section 8); or null. */
  private final AtomicReference<SharedSegment> segment = new AtomicReference<>();

  private final boolean offersSharedMemory;

  private PipeEndpoint(
      EndpointContext context, Path socketPath, EventLoop loop, SharedSegment segment) {
    this.context = context;
    this.socketPath = socketPath;
    this.loop = loop;
    this.segment.set(segment);
    this.offersSharedMemory = segment != null;
  }

  /** The threshold for a function's shared-memory mode (ADR 0011). */
  static int threshold(SharedMemory mode) {
    return mode == SharedMemory.ON ? 1 : AUTO_THRESHOLD;
  }

  /** Bodies from this size on go through a slot in {@code auto} mode: see ADR 0011. */
  static final int AUTO_THRESHOLD = 64 * 1024;

  /** The segment for a new instance, or null (switched off, or not possible here). */
  private static SharedSegment segmentFor(EndpointContext context) {
    FunctionSpec f = context.function();
    if (f.sharedMemory() == SharedMemory.OFF) {
      return null;
    }
    try {
      return SharedSegment.create(
          context.label(),
          SharedSegment.slotSizeFor(f.maxBodyBytes()),
          SharedSegment.slotsFor(f.concurrency()));
    } catch (IOException e) {
      if (f.sharedMemory() == SharedMemory.ON) {
        LOG.warning(context.label() + ": no shared memory, bodies go in frames: " + e.getMessage());
      } else {
        LOG.fine(() -> context.label() + ": no shared memory: " + e.getMessage());
      }
      return null;
    }
  }

  static PipeEndpoint listen(EndpointContext context) throws IOException {
    Path path =
        context.socketFile(context.function().id() + "-" + context.instanceNumber() + ".sock");
    EventLoops loops = context.loops();
    EventLoop loop = context.loop() != null ? context.loop() : loops.next();
    PipeEndpoint endpoint = new PipeEndpoint(context, path, loop, segmentFor(context));
    int uid = (Integer) Files.getAttribute(context.runDirectory(), "unix:uid");
    ServerBootstrap b =
        new ServerBootstrap()
            .group(loop, loop)
            .channel(loops.serverDomainSocketChannel())
            .option(ChannelOption.SO_BACKLOG, 4)
            .childOption(
                ChannelOption.WRITE_BUFFER_WATER_MARK,
                new WriteBufferWaterMark(64 * 1024, 256 * 1024))
            .childHandler(
                new ChannelInitializer<Channel>() {
                  @Override
                  protected void initChannel(Channel ch) {
                    endpoint.accept(ch, uid);
                  }
                });
    ChannelFuture bound = b.bind(loops.domainAddress(path)).awaitUninterruptibly();
    if (!bound.isSuccess()) {
      endpoint.releaseSegment();
      throw new IOException(
          context.label() + ": cannot listen on " + path + ": " + bound.cause().getMessage(),
          bound.cause());
    }
    endpoint.server = bound.channel();
    return endpoint;
  }

  /** On the loop, for each connection accepted: the first is the child, others are refused. */
  private void accept(Channel ch, int uid) {
    if (!accepted.compareAndSet(false, true) || closed.get()) {
      ch.close();
      return;
    }
    closeListener();
    ch.pipeline()
        .addLast("frames", new FrameDecoder())
        .addLast(
            "handshake",
            new PipeHandshake(
                context.label(),
                context.function(),
                uid,
                ready,
                () -> segment.getAndSet(null),
                threshold(context.function().sharedMemory())));
  }

  Path socketPath() {
    return socketPath;
  }

  @Override
  public Map<String, String> environment() {
    if (offersSharedMemory) {
      return Map.of("PIPE_ADDRESS", socketPath.toString(), "LOCAL_LAMBDAS_CAPABILITIES", "1");
    }
    return Map.of("PIPE_ADDRESS", socketPath.toString());
  }

  private void releaseSegment() {
    SharedSegment s = segment.getAndSet(null);
    if (s != null) {
      s.release();
    }
  }

  @Override
  public void awaitReady(Duration timeout, ProcessHandle process)
      throws IOException, InterruptedException {
    if (connection != null) {
      return;
    }
    try {
      process
          .onExit()
          .thenRun(
              () ->
                  ready.completeExceptionally(
                      notReady(
                          accepted.get()
                              ? "child exited before sending HELLO"
                              : "child exited before connecting")));
    } catch (IllegalStateException e) {
      // onExit is refused for the current process (tests), which cannot exit under us anyway.
    }
    try {
      connection = ready.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
      LOG.fine(() -> context.label() + ": pipe ready, pid " + process.pid());
    } catch (TimeoutException e) {
      throw notReady(
          accepted.get()
              ? "child did not send HELLO within " + format(timeout)
              : "child did not connect within " + format(timeout));
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

  static String format(Duration d) {
    long ms = d.toMillis();
    return ms % 1000 == 0 ? ms / 1000 + "s" : ms + "ms";
  }

  @Override
  public EventLoop loop() {
    return loop;
  }

  @Override
  public Call open(
      Request request, long timeoutMillis, EventLoop clientLoop, CallListener listener) {
    PipeConnection c = connection();
    if (c == null) {
      Call refused = new RefusedCall();
      clientLoop.execute(
          () -> {
            listener.failed(
                new TransportException(
                    Kind.NOT_DELIVERED, context.label() + ": pipe is not ready"));
            listener.released(Outcome.BROKEN);
          });
      return refused;
    }
    return c.open(request, timeoutMillis, clientLoop, listener);
  }

  /** The connection once the handshake succeeded, else null. */
  private PipeConnection connection() {
    PipeConnection c = connection;
    if (c == null && ready.isDone() && !ready.isCompletedExceptionally()) {
      c = ready.join();
      connection = c;
    }
    return c;
  }

  /** Calls in flight (on the connection's loop; for tests). */
  int activeCalls() throws Exception {
    PipeConnection c = connection();
    return c == null ? 0 : loop.submit(c::active).get(10, TimeUnit.SECONDS);
  }

  private void closeListener() {
    Channel s = server;
    if (s != null) {
      s.close();
    }
    try {
      Files.deleteIfExists(socketPath);
    } catch (IOException e) {
      LOG.log(Level.WARNING, context.label() + ": cannot remove " + socketPath, e);
    }
  }

  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    ready.completeExceptionally(notReady("endpoint closed while the child was starting"));
    closeListener();
    releaseSegment();
    PipeConnection c = connection();
    if (c != null) {
      c.close();
    }
  }

  /** A call refused before it started: its methods only drop what they get. */
  private static final class RefusedCall implements Call {
    @Override
    public void body(io.netty.buffer.ByteBuf content, boolean last) {
      content.release();
    }

    @Override
    public void consumed(int bytes) {}

    @Override
    public void cancel(Cancel why) {}
  }
}
