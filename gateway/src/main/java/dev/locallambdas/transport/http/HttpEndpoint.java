package dev.locallambdas.transport.http;

import dev.locallambdas.clock.Clock;
import dev.locallambdas.clock.Scheduler;
import dev.locallambdas.exchange.Headers;
import dev.locallambdas.exchange.Request;
import dev.locallambdas.loops.EventLoops;
import dev.locallambdas.transport.Call;
import dev.locallambdas.transport.CallListener;
import dev.locallambdas.transport.Endpoint;
import dev.locallambdas.transport.EndpointContext;
import dev.locallambdas.transport.Outcome;
import dev.locallambdas.transport.TransportException;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.resolver.NoopAddressResolverGroup;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.SocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * The gateway's side of one HTTP child: a transparent reverse proxy to the child's own server, with
 * a pool of keep-alive connections per event loop ({@link LoopPool}). Requests go out as given (the
 * front door already cleaned them); responses come back validated and without hop-by-hop fields.
 */
final class HttpEndpoint implements Endpoint {
  /**
   * How long a connection may stay idle before the gateway closes it: below the 5 s keep-alive
   * timeout of Node's http server, uvicorn and Apache, so the gateway usually closes first and the
   * keep-alive race (a request sent on a connection the child is closing) stays rare.
   */
  static final Duration IDLE_TIME = Duration.ofSeconds(4);

  /**
   * Unsent request bytes per connection above which the caller is told to stop sending body; it is
   * told to go on below the low mark.
   */
  static final WriteBufferWaterMark WATER_MARK =
      new WriteBufferWaterMark(64 * 1024, Exchange.MAX_WAITING_BODY);

  /** Where the child listens, as a blocking probe and as Netty channels see it. */
  record Address(
      SocketAddress probe, SocketAddress channel, String display, int port, Path socketFile) {}

  private final String label;
  private final Address address;
  private final String readyPath;
  private final Map<String, String> environment;
  private final Clock clock;
  private final HttpReadiness readiness;
  private final EventLoops loops;
  private final EventLoop home;
  private final AtomicInteger connections = new AtomicInteger();
  private final ConcurrentHashMap<EventLoop, LoopPool> pools = new ConcurrentHashMap<>();
  private final Function<EventLoop, LoopPool> newPool;
  private final Bootstrap tunnels;
  private volatile boolean closed;
  private volatile String lastProblem;

  HttpEndpoint(
      EndpointContext context,
      Address address,
      Map<String, String> environment,
      Clock clock,
      Function<? super EventLoop, Scheduler> timers) {
    this.label = "child '" + context.label() + "'";
    this.address = address;
    this.readyPath = context.function().readyPath();
    this.environment = Map.copyOf(environment);
    this.clock = clock;
    this.readiness = new HttpReadiness(clock::nanoTime);
    this.loops = context.loops();
    this.home = context.loop();
    boolean tcp = address.port() > 0;
    Bootstrap base =
        new Bootstrap()
            .channel(tcp ? loops.socketChannel() : loops.domainSocketChannel())
            .option(ChannelOption.AUTO_READ, false)
            .option(ChannelOption.WRITE_BUFFER_WATER_MARK, WATER_MARK)
            // No connect timer of Netty's own: the request timeout bounds the connect too.
            .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 0)
            .resolver(NoopAddressResolverGroup.INSTANCE)
            .remoteAddress(address.channel());
    if (tcp) {
      base.option(ChannelOption.TCP_NODELAY, true);
    }
    this.tunnels = base;
    String peer = label + " at " + address.display();
    String host = tcp ? address.display() : "localhost";
    int maxIdle = context.function().concurrency();
    this.newPool =
        loop -> {
          Bootstrap own = base.clone(loop); // used only on its loop: connects share nothing
          LoopPool.Connector connector = init -> own.handler(init).connect();
          return new LoopPool(
              loop,
              connector,
              new LoopPool.Settings(
                  peer,
                  host,
                  maxIdle,
                  IDLE_TIME.toNanos(),
                  clock,
                  timers.apply(loop),
                  connections));
        };
  }

  @Override
  public Map<String, String> environment() {
    return environment;
  }

  @Override
  public io.netty.channel.ChannelFuture tunnel(
      EventLoop loop, io.netty.channel.ChannelHandler handler) {
    return tunnels.clone(loop).handler(handler).connect();
  }

  @Override
  public void awaitReady(Duration timeout, ProcessHandle process)
      throws IOException, InterruptedException {
    long deadline = clock.nanoTime() + timeout.toNanos();
    boolean[] ownerChecked = {false};
    String goal =
        readyPath == null
            ? "accept connections on " + address.display()
            : "answer GET " + readyPath + " on " + address.display() + " with a status below 500";
    readiness.await(
        label,
        goal,
        timeout,
        process,
        () -> {
          if (!HttpReadiness.connects(address.probe(), label, problem -> lastProblem = problem)) {
            return false;
          }
          if (!ownerChecked[0] && address.port() > 0) {
            ownerChecked[0] = true;
            HttpReadiness.requireOwnPort(label, address.port(), process);
          }
          return readyPath == null || answersReadyPath(deadline);
        },
        () -> lastProblem);
  }

  /**
   * One GET of the ready path through the event-loop client, waited for on this (virtual) thread
   * until the start-up deadline at most.
   */
  private boolean answersReadyPath(long deadline) throws IOException {
    long wait = deadline - clock.nanoTime();
    if (wait <= 0) {
      return false; // out of time: the caller reports it, with the last problem seen
    }
    EventLoop loop = home != null ? home : loops.next();
    int q = readyPath.indexOf('?');
    Request get =
        new Request(
            "GET",
            q < 0 ? readyPath : readyPath.substring(0, q),
            q < 0 ? null : readyPath.substring(q + 1),
            Headers.empty(),
            0,
            "127.0.0.1");
    ReadyProbe probe = new ReadyProbe();
    try {
      loop.submit(() -> probe.started(open(get, 0, loop, probe))).get();
      int status = probe.status(wait);
      if (status < 500) {
        return true;
      }
      lastProblem = "status " + status;
      return false;
    } catch (TransportException e) {
      lastProblem = e.getMessage();
      return false;
    } catch (TimeoutException e) {
      probe.cancelLater(loop);
      lastProblem = "no answer to GET " + readyPath;
      return false;
    } catch (InterruptedException e) {
      probe.cancelLater(loop);
      Thread.currentThread().interrupt();
      InterruptedIOException i =
          new InterruptedIOException("interrupted while waiting for " + label);
      i.initCause(e);
      throw i;
    } catch (ExecutionException e) {
      throw new IOException("cannot ask " + label + " for " + readyPath, e.getCause());
    }
  }

  /**
   * Starts a call on {@code loop} with that loop's connections. Throws IllegalArgumentException for
   * a request that is not valid HTTP (the front door never forwards one).
   */
  @Override
  public Call open(Request request, long timeoutMillis, EventLoop loop, CallListener listener) {
    if (!loop.inEventLoop()) {
      throw new IllegalStateException(
          "a call is opened on its own loop, not " + Thread.currentThread());
    }
    LoopPool pool = pool(loop);
    if (closed) {
      pool.close(); // created just as the endpoint closed: fail rather than connect
    }
    return pool.open(request, listener);
  }

  LoopPool pool(EventLoop loop) {
    LoopPool pool = pools.get(loop);
    return pool != null ? pool : pools.computeIfAbsent(loop, newPool);
  }

  /** Null: an HTTP child is served by a connection pool on every loop. */
  @Override
  public EventLoop loop() {
    return null;
  }

  /** Connections open to the child, idle, in use or connecting, on every loop. */
  int openConnections() {
    return connections.get();
  }

  @Override
  public void close() {
    closed = true;
    for (LoopPool pool : pools.values()) {
      if (pool.loop().inEventLoop()) {
        pool.close();
      } else {
        try {
          pool.loop().execute(pool::close);
        } catch (RejectedExecutionException e) {
          // The loops were stopped, and their channels closed with them.
        }
      }
    }
    if (address.socketFile() != null) {
      try {
        Files.deleteIfExists(address.socketFile());
      } catch (IOException e) {
        // The run directory is private and removed with the gateway; a leftover file is harmless.
      }
    }
  }

  /** Waits for the answer to the ready path. */
  private static final class ReadyProbe implements CallListener {
    private final CompletableFuture<Integer> answer = new CompletableFuture<>();
    private volatile Call call;
    private int status;
    private TransportException failure;

    Call started(Call c) {
      call = c;
      return c;
    }

    int status(long waitNanos)
        throws TransportException, InterruptedException, TimeoutException, ExecutionException {
      try {
        return answer.get(waitNanos, TimeUnit.NANOSECONDS);
      } catch (ExecutionException e) {
        if (e.getCause() instanceof TransportException t) {
          throw t;
        }
        throw e;
      }
    }

    void cancelLater(EventLoop loop) {
      Call c = call;
      if (c != null) {
        loop.execute(() -> c.cancel(Call.Cancel.CLIENT_GONE));
      }
    }

    @Override
    public void head(int status, Headers headers, long contentLength) {
      this.status = status;
    }

    @Override
    public void body(ByteBuf content) {
      int n = content.readableBytes();
      content.release(); // a readiness answer's body carries nothing needed
      call.consumed(n);
    }

    @Override
    public void end() {}

    @Override
    public void failed(TransportException cause) {
      failure = cause;
    }

    @Override
    public void bodyWritable(boolean writable) {}

    @Override
    public void released(Outcome outcome) {
      if (failure != null) {
        answer.completeExceptionally(failure);
      } else {
        answer.complete(status);
      }
    }
  }
}
