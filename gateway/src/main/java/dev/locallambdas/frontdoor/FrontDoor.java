package dev.locallambdas.frontdoor;

import dev.locallambdas.admin.AdminApi;
import dev.locallambdas.cache.ResponseCache;
import dev.locallambdas.function.FunctionPool;
import dev.locallambdas.loops.EventLoops;
import dev.locallambdas.metrics.GatewayMetrics;
import dev.locallambdas.routing.RouteTable;
import dev.locallambdas.tls.ServerTls;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpResponseEncoder;
import io.netty.handler.codec.http.HttpServerUpgradeHandler;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.ApplicationProtocolNegotiationHandler;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.timeout.IdleStateHandler;
import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.logging.Logger;

/**
 * The front door (HTTP/1.1, and HTTP/2 over h2c or TLS; docs/http2.md, docs/tls.md): Netty's event
 * loops (native epoll where available) parse requests strictly and serve each routed request on the
 * same loop (see ConnectionHandler); see docs/decisions/0001-front-door-library.md for why, and
 * docs/frontdoor.md for what it accepts.
 */
public final class FrontDoor implements AutoCloseable {
  private static final Logger LOG = Logger.getLogger("dev.locallambdas.frontdoor");
  static final int MAX_INITIAL_LINE = 8 * 1024;
  static final int MAX_HEADER_SIZE = 16 * 1024;
  static final int KEEP_ALIVE_IDLE_SECONDS = 60;

  /** How long a client may take to send a complete request head once it has started one. */
  public static final Duration DEFAULT_HEADER_TIMEOUT = Duration.ofSeconds(10);

  private final EventLoops ownLoops;
  private final Channel serverChannel;
  private final InetSocketAddress address;
  private final AtomicReference<RouteTable<FunctionPool>> routes;

  /** Open client connections (a closed one leaves by itself): told of a drain over HTTP/2. */
  private final java.util.Set<Channel> connections;

  private FrontDoor(
      EventLoops ownLoops,
      Channel serverChannel,
      AtomicReference<RouteTable<FunctionPool>> routes,
      java.util.Set<Channel> connections) {
    this.ownLoops = ownLoops;
    this.connections = connections;
    this.routes = routes;
    this.serverChannel = serverChannel;
    this.address = (InetSocketAddress) serverChannel.localAddress();
  }

  /**
   * Binds and starts serving on event loops of its own, without a cache, admin endpoints or metrics
   * (tests of the front door alone). A client that starts a request head must complete it within
   * {@code headerTimeout} or gets 408 and is disconnected.
   */
  public static FrontDoor start(
      InetSocketAddress bind, RouteTable<FunctionPool> routes, Duration headerTimeout)
      throws IOException {
    EventLoops loops = EventLoops.start();
    try {
      return start(
          bind,
          routes,
          null,
          null,
          headerTimeout,
          loops,
          new GatewayMetrics(),
          TrustedProxies.NONE,
          null,
          true);
    } catch (IOException | RuntimeException e) {
      loops.close();
      throw e;
    }
  }

  /**
   * Binds and starts serving on the given event loops (shared with the functions' connections),
   * answering cache hits from {@code cache} (null: no cache) and the admin endpoints with {@code
   * admin} (null: none), recording requests, connections and refusals in {@code metrics} and
   * believing the forwarding fields of requests from {@code trustedProxies}. Fails with a clear
   * message when the address cannot be used.
   */
  public static FrontDoor start(
      InetSocketAddress bind,
      RouteTable<FunctionPool> routes,
      ResponseCache cache,
      AdminApi admin,
      Duration headerTimeout,
      EventLoops loops,
      GatewayMetrics metrics,
      TrustedProxies trustedProxies)
      throws IOException {
    return start(
        bind, routes, cache, admin, headerTimeout, loops, metrics, trustedProxies, null, false);
  }

  /**
   * As above, serving HTTPS with {@code tls} (null: cleartext HTTP/1.1 and h2c): ALPN chooses h2 or
   * http/1.1 (docs/tls.md).
   */
  public static FrontDoor start(
      InetSocketAddress bind,
      RouteTable<FunctionPool> routes,
      ResponseCache cache,
      AdminApi admin,
      Duration headerTimeout,
      EventLoops loops,
      GatewayMetrics metrics,
      TrustedProxies trustedProxies,
      ServerTls tls)
      throws IOException {
    return start(
        bind, routes, cache, admin, headerTimeout, loops, metrics, trustedProxies, tls, false);
  }

  private static FrontDoor start(
      InetSocketAddress bind,
      RouteTable<FunctionPool> routes,
      ResponseCache cache,
      AdminApi admin,
      Duration headerTimeout,
      EventLoops loops,
      GatewayMetrics metrics,
      TrustedProxies trustedProxies,
      ServerTls tls,
      boolean ownsLoops)
      throws IOException {
    if (headerTimeout.isNegative() || headerTimeout.isZero()) {
      throw new IllegalArgumentException(
          "header timeout is " + headerTimeout + ": it must be positive");
    }
    boolean epoll = loops.nativeTransport();
    Class<? extends ServerChannel> channelType = loops.serverSocketChannel();
    int threads = loops.size();
    EventLoopGroup group = loops.group();
    AtomicReference<RouteTable<FunctionPool>> live = new AtomicReference<>(routes);
    java.util.Set<Channel> connections = java.util.concurrent.ConcurrentHashMap.newKeySet();
    ServerBootstrap b =
        new ServerBootstrap()
            .group(group)
            .channel(channelType)
            .option(ChannelOption.SO_BACKLOG, 1024)
            .option(ChannelOption.SO_REUSEADDR, true)
            .childOption(ChannelOption.TCP_NODELAY, true)
            .childOption(
                ChannelOption.WRITE_BUFFER_WATER_MARK,
                new WriteBufferWaterMark(64 * 1024, 256 * 1024))
            .childHandler(
                new ChannelInitializer<SocketChannel>() {
                  @Override
                  protected void initChannel(SocketChannel ch) {
                    connections.add(ch);
                    ch.closeFuture().addListener(f -> connections.remove(ch));
                    if (tls != null) {
                      configureTls(
                          ch, tls, live::get, cache, admin, headerTimeout, metrics, trustedProxies);
                      return;
                    }
                    configure(
                        ch.pipeline(),
                        live::get,
                        cache,
                        admin,
                        headerTimeout,
                        metrics,
                        trustedProxies);
                  }
                });
    try {
      Channel ch = b.bind(bind).syncUninterruptibly().channel();
      FrontDoor door = new FrontDoor(ownsLoops ? loops : null, ch, live, connections);
      LOG.fine(
          () ->
              "front door uses " + (epoll ? "epoll" : "NIO") + " with " + threads + " event loops");
      return door;
    } catch (Exception e) {
      if (e instanceof BindException
          || e.getCause() instanceof BindException
          || String.valueOf(e.getMessage()).contains("in use")) {
        throw new IOException(
            "cannot listen on "
                + bind.getHostString()
                + ":"
                + bind.getPort()
                + ": the address is already in use; stop the other server or pass --bind HOST:PORT",
            e);
      }
      throw new IOException("cannot listen on " + bind + ": " + e.getMessage(), e);
    }
  }

  /** The strict request decoder's settings (docs/frontdoor.md). */
  static HttpDecoderConfig decoderConfig() {
    return new HttpDecoderConfig()
        .setMaxInitialLineLength(MAX_INITIAL_LINE)
        .setMaxHeaderSize(MAX_HEADER_SIZE)
        .setMaxChunkSize(64 * 1024)
        .setValidateHeaders(true)
        .setAllowDuplicateContentLengths(false)
        .setStrictLineParsing(true)
        .setUseRfc9112TransferEncoding(true);
  }

  /** The handlers of one client connection, in order (also used by tests on an EmbeddedChannel). */
  static void configure(
      ChannelPipeline pipeline,
      RouteTable<FunctionPool> routes,
      ResponseCache cache,
      AdminApi admin,
      Duration headerTimeout) {
    configure(
        pipeline,
        () -> routes,
        cache,
        admin,
        headerTimeout,
        new GatewayMetrics(),
        TrustedProxies.NONE);
  }

  static void configure(
      ChannelPipeline pipeline,
      java.util.function.Supplier<RouteTable<FunctionPool>> routes,
      ResponseCache cache,
      AdminApi admin,
      Duration headerTimeout,
      GatewayMetrics metrics,
      TrustedProxies trustedProxies) {
    configureHttp1(pipeline, routes, cache, admin, headerTimeout, metrics, trustedProxies, false);
    // An HTTP/2 client with prior knowledge is told from an HTTP/1.x one by its first bytes, which
    // the HTTP/1.1 head deadline times until then (a stalled half preface gets 408).
    pipeline.addAfter(
        "head-start",
        "preface",
        new PrefaceDetector(
            ctx -> {
              ChannelPipeline p = ctx.pipeline();
              H2HeadDeadline deadline = http2Deadline(p, metrics);
              removeHttp1(p);
              Http2FrameCodec codec = Http2Front.codec();
              Http2Front.configure(p, codec, routes, cache, admin, metrics, trustedProxies, false);
              p.addBefore(p.context(codec).name(), H2HeadDeadline.NAME, deadline);
            }));
  }

  /**
   * The HTTP/2 header timeout of a connection leaving HTTP/1.1: the same timeout, and the time its
   * first bytes already took counts (a prior-knowledge preface).
   */
  private static H2HeadDeadline http2Deadline(ChannelPipeline http1, GatewayMetrics metrics) {
    HeadDeadline d = HeadDeadline.in(http1, "head-start");
    return d == null
        ? new H2HeadDeadline(DEFAULT_HEADER_TIMEOUT, Duration.ZERO, metrics)
        : new H2HeadDeadline(d.timeout(), d.spent(), metrics);
  }

  private static void configureHttp1(
      ChannelPipeline pipeline,
      java.util.function.Supplier<RouteTable<FunctionPool>> routes,
      ResponseCache cache,
      AdminApi admin,
      Duration headerTimeout,
      GatewayMetrics metrics,
      TrustedProxies trustedProxies,
      boolean tls) {
    HeadDeadline deadline = new HeadDeadline(headerTimeout);
    pipeline
        .addLast("idle", new IdleStateHandler(KEEP_ALIVE_IDLE_SECONDS, 0, 0, TimeUnit.SECONDS))
        .addLast("head-start", deadline.bytes())
        .addLast("decoder", new StrictRequestDecoder(decoderConfig()))
        .addLast("head-end", deadline.heads())
        .addLast("encoder", new HttpResponseEncoder())
        .addLast(
            "gateway",
            new ConnectionHandler(
                routes, cache, admin, metrics, trustedProxies, ConnectionHandler.Kind.HTTP1, tls));
  }

  /** The HTTP/1.1 handlers; the keep-alive idle timer stays and serves HTTP/2 as well. */
  private static void removeHttp1(ChannelPipeline p) {
    for (String name : new String[] {"head-start", "decoder", "head-end", "encoder", "gateway"}) {
      if (p.get(name) != null) {
        p.remove(name);
      }
    }
  }

  /** How a cleartext HTTP/1.1 connection becomes HTTP/2 on {@code Upgrade: h2c}. */
  static H2cUpgrade.Target h2cTarget(
      java.util.function.Supplier<RouteTable<FunctionPool>> routes,
      ResponseCache cache,
      AdminApi admin,
      GatewayMetrics metrics,
      TrustedProxies trustedProxies) {
    return new H2cUpgrade.Target() {
      @Override
      public void removeHttp1(ChannelPipeline pipeline) {
        H2HeadDeadline deadline = http2Deadline(pipeline, metrics);
        FrontDoor.removeHttp1(pipeline);
        // The codec goes right after the upgrade handler: the deadline goes just before it.
        pipeline.addBefore(
            pipeline.context(HttpServerUpgradeHandler.class).name(), H2HeadDeadline.NAME, deadline);
      }

      @Override
      public Http2FrameCodec codec() {
        return Http2Front.codec();
      }

      @Override
      public ChannelHandler[] afterCodec(Http2FrameCodec codec) {
        return Http2Front.afterCodec(codec, routes, cache, admin, metrics, trustedProxies, false);
      }
    };
  }

  /**
   * A TLS connection: the handshake (TLS 1.2 or 1.3), then ALPN picks HTTP/2 or HTTP/1.1 (a client
   * offering neither gets HTTP/1.1). There is no h2c and no preface detection over TLS.
   */
  private static void configureTls(
      SocketChannel ch,
      ServerTls tls,
      java.util.function.Supplier<RouteTable<FunctionPool>> routes,
      ResponseCache cache,
      AdminApi admin,
      Duration headerTimeout,
      GatewayMetrics metrics,
      TrustedProxies trustedProxies) {
    SslHandler ssl = tls.context().newHandler(ch.alloc());
    ssl.setHandshakeTimeout(headerTimeout.toMillis(), TimeUnit.MILLISECONDS);
    ch.pipeline()
        .addLast("tls", ssl)
        .addLast(
            "alpn",
            new ApplicationProtocolNegotiationHandler(ApplicationProtocolNames.HTTP_1_1) {
              @Override
              protected void configurePipeline(ChannelHandlerContext ctx, String protocol) {
                ChannelPipeline p = ctx.pipeline();
                if (ApplicationProtocolNames.HTTP_2.equals(protocol)) {
                  Http2FrameCodec codec = Http2Front.codec();
                  Http2Front.configure(
                      p, codec, routes, cache, admin, metrics, trustedProxies, true);
                  p.addBefore(
                      p.context(codec).name(),
                      H2HeadDeadline.NAME,
                      new H2HeadDeadline(headerTimeout, Duration.ZERO, metrics));
                } else {
                  configureHttp1(
                      p, routes, cache, admin, headerTimeout, metrics, trustedProxies, true);
                }
              }

              @Override
              protected void handshakeFailure(ChannelHandlerContext ctx, Throwable cause) {
                LOG.fine(() -> "TLS handshake failed: " + cause);
                ctx.close();
              }
            });
  }

  /**
   * Puts a new route table in effect at once, for every connection (a manifest reload): requests
   * routed before keep their function, the next ones use the new table.
   */
  public void routes(RouteTable<FunctionPool> table) {
    routes.set(java.util.Objects.requireNonNull(table, "table"));
  }

  /** The address actually bound (useful with port 0). */
  public InetSocketAddress address() {
    return address;
  }

  /**
   * Stops accepting new connections; open connections keep being served. HTTP/2 clients are sent
   * GOAWAY (NO_ERROR) so that they open no new stream on a gateway that is draining; the streams
   * they have finish, and Netty closes the connection once the last one has.
   */
  public void stopAccepting() {
    serverChannel.close().syncUninterruptibly();
    for (Channel c : connections) {
      c.eventLoop()
          .execute(
              () -> {
                if (c.isActive()
                    && c.pipeline().get(io.netty.handler.codec.http2.Http2FrameCodec.class)
                        != null) {
                  c.writeAndFlush(
                      new io.netty.handler.codec.http2.DefaultHttp2GoAwayFrame(
                          io.netty.handler.codec.http2.Http2Error.NO_ERROR));
                }
              });
    }
  }

  @Override
  public void close() {
    serverChannel.close().syncUninterruptibly();
    if (ownLoops != null) {
      ownLoops.close();
    }
  }
}
