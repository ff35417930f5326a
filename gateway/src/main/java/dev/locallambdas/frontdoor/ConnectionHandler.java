package dev.locallambdas.frontdoor;

import dev.locallambdas.admin.AdminApi;
import dev.locallambdas.cache.Capture;
import dev.locallambdas.cache.FunctionCache;
import dev.locallambdas.cache.Lookup;
import dev.locallambdas.cache.RequestFields;
import dev.locallambdas.cache.ResponseCache;
import dev.locallambdas.exchange.Headers;
import dev.locallambdas.exchange.Problem;
import dev.locallambdas.exchange.Request;
import dev.locallambdas.function.FunctionPool;
import dev.locallambdas.metrics.GatewayMetrics;
import dev.locallambdas.routing.RouteTable;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * One client connection, on its event loop: requests are admitted or refused ({@link Admission}),
 * answered from the cache, or handed to an {@link Exchange} — a {@link Dispatch} to a function, or
 * the admin API — one at a time, so pipelined requests are answered in order (messages of the next
 * request wait in {@code backlog} until the current response is written). Nothing here blocks.
 *
 * <p>Reading is on by default and turned off only while it must wait: a pipelined request behind a
 * response in progress, or a request body the function cannot take yet (backpressure); turning it
 * back on is what lets the client send more.
 */
final class ConnectionHandler extends ChannelInboundHandlerAdapter {
  private static final Logger LOG = Logger.getLogger("dev.locallambdas.frontdoor");
  private static final int MAX_BACKLOG = 64;

  /**
   * After a response that ends the connection, how long unread input is still read and thrown away
   * (RFC 9112 section 9.6): closing at once while the client is still sending makes the kernel
   * answer with a reset, which can destroy the response before the client reads it.
   */
  static final long LINGER_MILLIS = 2_000;

  /** The current request, as the connection sees it. */
  interface Exchange {
    /** A piece of the request body; ownership passes. */
    void content(ByteBuf content, boolean last);

    /** The request body is not valid HTTP (a bad chunk): answer 400 and close. */
    void malformed(String why);

    /** The client closed the connection. */
    void clientGone();
  }

  /** What the connection handler serves. */
  enum Kind {
    /** An HTTP/1.x connection (which may turn into HTTP/2 with {@code Upgrade: h2c}). */
    HTTP1,
    /** One HTTP/2 stream: its messages are converted from frames; the connection is its parent. */
    H2_STREAM
  }

  private enum State {
    /** Waiting for the next request. */
    IDLE,
    /** A request is being served and its body is still arriving. */
    RECEIVING,
    /** The request was fully received; its response is being produced. */
    RESPONDING,
    /** A request was answered without reading its body; the rest of the body is thrown away. */
    DISCARDING,
    /** The last response is written or being written; all further input is thrown away. */
    CLOSING
  }

  /** The route table in effect, read per request: a manifest reload swaps it (docs/reload.md). */
  private final java.util.function.Supplier<RouteTable<FunctionPool>> routes;

  private final ResponseCache cache;
  private final AdminApi admin;
  private final TrustedProxies trustedProxies;
  private final GatewayMetrics metrics;
  private final Kind kind;
  private final boolean tls;
  private final ArrayDeque<Object> backlog = new ArrayDeque<>();
  private ChannelHandlerContext ctx;

  /** Writes through here skip the HTTP encoder: cache hits are already encoded. */
  private ChannelHandlerContext rawWriter;

  private State state = State.IDLE;
  private Exchange exchange;
  private Responder responder;
  private boolean replaying;
  private boolean bodyPaused;
  private boolean counted;
  private boolean upgrading;

  ConnectionHandler(
      java.util.function.Supplier<RouteTable<FunctionPool>> routes,
      ResponseCache cache,
      AdminApi admin,
      GatewayMetrics metrics,
      TrustedProxies trustedProxies) {
    this(routes, cache, admin, metrics, trustedProxies, Kind.HTTP1, false);
  }

  /** {@code tls}: the client connection is HTTPS (X-Forwarded-Proto says so). */
  ConnectionHandler(
      java.util.function.Supplier<RouteTable<FunctionPool>> routes,
      ResponseCache cache,
      AdminApi admin,
      GatewayMetrics metrics,
      TrustedProxies trustedProxies,
      Kind kind,
      boolean tls) {
    this.routes = routes;
    this.cache = cache;
    this.admin = admin;
    this.metrics = metrics;
    this.trustedProxies = trustedProxies;
    this.kind = kind;
    this.tls = tls;
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) throws Exception {
    count(true);
    super.channelActive(ctx);
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
    ChannelHandlerContext encoder = ctx.pipeline().context("encoder");
    this.rawWriter = encoder != null ? encoder : ctx;
    if (ctx.channel().isActive()) {
      count(true); // added after the TLS handshake chose HTTP/1.1
    }
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    count(false); // the connection turned into HTTP/2, which counts it from now on
  }

  /** An HTTP/1.x connection counts once as a connection; an HTTP/2 stream does not. */
  private void count(boolean open) {
    if (kind != Kind.HTTP1 || counted == open) {
      return;
    }
    counted = open;
    if (open) {
      metrics.connectionOpened();
    } else {
      metrics.connectionClosed();
    }
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (state == State.CLOSING || upgrading) {
      ReferenceCountUtil.release(msg);
      return;
    }
    if (state == State.RESPONDING || (!backlog.isEmpty() && !replaying)) {
      backlog.add(msg);
      if (backlog.size() > MAX_BACKLOG) {
        updateReading();
      }
      return;
    }
    if (msg instanceof HttpRequest request) {
      if (kind == Kind.HTTP1 && !tls && H2cUpgrade.wanted(request, backlog.isEmpty())) {
        H2cUpgrade.start(
            ctx, request, FrontDoor.h2cTarget(routes, cache, admin, metrics, trustedProxies));
        return;
      }
      try {
        onRequest(request);
      } catch (RuntimeException e) {
        LOG.log(Level.SEVERE, "unexpected failure admitting " + request.uri(), e);
        reject(
            request,
            Problem.of(500, "internal-error", "Internal Server Error")
                .detail("the gateway failed unexpectedly (" + e + "); see its log")
                .build(),
            true);
      }
    }
    if (msg instanceof HttpContent content && state != State.CLOSING && !upgrading) {
      onContent(content);
    } else {
      ReferenceCountUtil.release(msg);
    }
  }

  // ---------------------------------------------------------------- a new request

  private void onRequest(HttpRequest req) {
    Admission.Decision decision = Admission.decide(req, routes.get(), admin != null);
    switch (decision) {
      case Admission.Refused r -> reject(req, r.problem(), r.close());
      case Admission.Admin a -> serveAdmin(req, a);
      case Admission.Routed r -> route(req, r);
    }
  }

  private void route(HttpRequest req, Admission.Routed r) {
    String upgrade = UpgradeRelay.requested(req);
    if (upgrade != null) {
      upgrade(req, r, upgrade);
      return;
    }
    if (r.expectContinue()) {
      ctx.writeAndFlush(
          new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.CONTINUE));
    }
    if (kind == Kind.H2_STREAM && r.hasBody()) {
      watchBody();
    }
    boolean headRequest = Admission.isHead(req);
    String method = req.method().name();
    Lookup lookup = lookup(req, r, method);
    if (lookup instanceof Lookup.Hit hit) {
      String hitId = ForwardedHeaders.requestId(req.headers());
      ChannelFuture written = writeHit(hit, headRequest, r.keepAlive(), r.http10(), hitId);
      String id = r.pool().spec().id();
      AccessLog.Entry log =
          new AccessLog.Entry(
              hitId, id, method, r.target().path(), clientIp(), metrics.function(id));
      log.instance("cache", false);
      log.status(hit.status());
      log.done(headRequest ? 0 : hit.body().length);
      if (!r.keepAlive()) {
        state = State.CLOSING;
        written.addListener(f -> closeGracefully());
      }
      return; // state stays IDLE: the request's empty last content is ignored
    }
    String clientIp = clientIp();
    HttpHeaders h = req.headers();
    String requestId = ForwardedHeaders.requestId(h);
    Headers headers = functionHeaders(h, r, clientIp, requestId);
    Request request =
        new Request(method, r.target().path(), r.target().query(), headers, r.length(), clientIp);
    Responder s =
        new Responder(ctx, headRequest, r.http10(), r.keepAlive(), this::responseComplete);
    s.requestId(requestId);
    responder = s;
    state = r.hasBody() ? State.RECEIVING : State.RESPONDING;
    AccessLog.Entry log = accessLog(requestId, r, method, clientIp);
    if (lookup instanceof Lookup.Wait wait) {
      // Another request is fetching this URL: wait for its response without holding a thread.
      exchange = new Waiting(); // bodiless: nothing to receive meanwhile
      wait.outcome()
          .thenAcceptAsync(
              next -> afterWait(next, r, request, s, headRequest, log), ctx.executor());
      return;
    }
    dispatch(r.pool(), request, s, (Lookup.Forward) lookup, log);
  }

  /** An Upgrade (a WebSocket) for the function: relayed when it allows it, else refused. */
  private void upgrade(HttpRequest req, Admission.Routed r, String protocol) {
    Problem refusal =
        UpgradeRelay.refusal(r.pool().spec(), protocol, kind == Kind.HTTP1, r.hasBody());
    if (refusal != null) {
      reject(req, refusal, true);
      return;
    }
    upgrading = true; // from here on the connection is the relay's
    state = State.RESPONDING; // no header timeout while the function starts
    String clientIp = clientIp();
    HttpHeaders h = req.headers();
    String requestId = ForwardedHeaders.requestId(h);
    Headers headers = functionHeaders(h, r, clientIp, requestId);
    String query = r.target().query();
    String target = r.target().path() + (query == null || query.isEmpty() ? "" : "?" + query);
    AccessLog.Entry log = accessLog(requestId, r, req.method().name(), clientIp);
    UpgradeRelay.start(
        ctx,
        r.pool(),
        req,
        target,
        headers,
        log,
        problem -> {
          upgrading = false;
          reject(req, problem, true);
        });
  }

  /** The fields a function sees: the client's, cleaned, plus this hop's forwarding fields. */
  private Headers functionHeaders(
      HttpHeaders h, Admission.Routed r, String clientIp, String requestId) {
    return ForwardedHeaders.forFunction(
        h,
        clientIp,
        r.host() == null || r.host().isEmpty() ? null : r.host(),
        requestId,
        fromTrustedProxy(),
        tls ? "https" : "http");
  }

  private AccessLog.Entry accessLog(
      String requestId, Admission.Routed r, String method, String clientIp) {
    String functionId = r.pool().spec().id();
    return new AccessLog.Entry(
        requestId, functionId, method, r.target().path(), clientIp, metrics.function(functionId));
  }

  private Lookup lookup(HttpRequest req, Admission.Routed r, String method) {
    FunctionCache functionCache = cache == null ? null : cache.function(r.pool().spec().id());
    if (functionCache == null) {
      return null;
    }
    boolean safe = method.equals("GET") || method.equals("HEAD");
    if (r.hasBody() && safe) {
      return null; // a GET with a body is not something a shared cache can answer
    }
    // Unsafe methods are looked up whatever their body: a successful one invalidates what is
    // stored for the URL (RFC 9111 section 4.4) and its answer says X-Cache: BYPASS.
    return functionCache.lookup(
        method, r.target().path(), r.target().query(), fields(req.headers()));
  }

  private void dispatch(
      FunctionPool pool,
      Request request,
      Responder s,
      Lookup.Forward forward,
      AccessLog.Entry log) {
    Capture capture = forward == null ? null : forward.capture();
    Dispatch d = new Dispatch(this, ctx.channel().eventLoop(), pool, request, s, capture, log);
    exchange = d;
    d.start();
  }

  private void afterWait(
      Lookup next,
      Admission.Routed r,
      Request request,
      Responder s,
      boolean headRequest,
      AccessLog.Entry log) {
    if (!ctx.channel().isActive() || responder != s) {
      if (next instanceof Lookup.Forward f) {
        f.done();
      }
      return;
    }
    if (next instanceof Lookup.Hit hit) {
      log.instance("cache", false);
      log.status(hit.status());
      log.done(headRequest ? 0 : hit.body().length);
      writeHit(hit, headRequest, r.keepAlive(), r.http10(), s.requestId())
          .addListener(f -> responseComplete(!r.keepAlive() || !f.isSuccess()));
    } else {
      dispatch(r.pool(), request, s, (Lookup.Forward) next, log);
    }
  }

  /** A request waiting for another's cache miss: nothing to do until that one lands. */
  private static final class Waiting implements Exchange {
    @Override
    public void content(ByteBuf content, boolean last) {
      content.release();
    }

    @Override
    public void malformed(String why) {}

    @Override
    public void clientGone() {}
  }

  /**
   * An HTTP/2 stream that sends a body gets the idle timer an HTTP/1.1 connection always has (a
   * client that stops sending the body is given up on); bodiless streams, most of them, skip the
   * timer's schedule and cancel.
   */
  private void watchBody() {
    if (ctx.pipeline().get("idle") == null) {
      ctx.pipeline()
          .addBefore(
              ctx.name(),
              "idle",
              new IdleStateHandler(FrontDoor.KEEP_ALIVE_IDLE_SECONDS, 0, 0, TimeUnit.SECONDS));
    }
  }

  private ChannelFuture writeHit(
      Lookup.Hit hit, boolean head, boolean keepAlive, boolean http10, String requestId) {
    if (kind == Kind.H2_STREAM) {
      return CachedResponses.writeFrames(ctx, hit, head, requestId);
    }
    return rawWriter.writeAndFlush(
        CachedResponses.render(ctx.alloc(), hit, head, keepAlive, http10, requestId));
  }

  private static RequestFields fields(HttpHeaders h) {
    return name -> {
      String first = h.get(name);
      if (first == null) {
        return null;
      }
      List<String> all = h.getAll(name);
      return all.size() == 1 ? first : String.join(", ", all);
    };
  }

  private void serveAdmin(HttpRequest req, Admission.Admin a) {
    Responder s =
        new Responder(
            ctx,
            Admission.isHead(req),
            a.http10(),
            HttpUtil.isKeepAlive(req),
            this::responseComplete);
    responder = s;
    state = State.RECEIVING;
    if (kind == Kind.H2_STREAM) {
      watchBody(); // the admin API reads every request to its end
    }
    java.net.InetAddress peer = peer() instanceof InetSocketAddress addr ? addr.getAddress() : null;
    AdminExchange e = new AdminExchange(admin, ctx.channel().eventLoop(), s);
    exchange = e;
    e.start(req, a.target(), a.host(), peer);
  }

  private boolean fromTrustedProxy() {
    return !trustedProxies.isEmpty()
        && peer() instanceof InetSocketAddress a
        && trustedProxies.trusts(a.getAddress());
  }

  /** The client's address: an HTTP/2 stream's is its connection's. */
  private java.net.SocketAddress peer() {
    Channel ch = ctx.channel();
    return kind == Kind.H2_STREAM && ch.parent() != null
        ? ch.parent().remoteAddress()
        : ch.remoteAddress();
  }

  private String clientIp() {
    if (peer() instanceof InetSocketAddress a) {
      return a.getAddress() != null ? a.getAddress().getHostAddress() : a.getHostString();
    }
    return null;
  }

  // ---------------------------------------------------------------- the request body

  private void onContent(HttpContent content) {
    boolean last = content instanceof LastHttpContent;
    if (content.decoderResult().isFailure()) {
      // The decoder gives up on the connection after a malformed body (a bad chunk, say).
      String why = String.valueOf(content.decoderResult().cause().getMessage());
      content.release();
      if (state == State.RECEIVING && exchange != null) {
        exchange.malformed(why);
      } else if (state != State.RECEIVING) {
        closeGracefully();
      }
      return;
    }
    switch (state) {
      case RECEIVING -> {
        if (last) {
          state = State.RESPONDING;
        }
        exchange.content(content.content(), last); // ownership of the bytes passes
      }
      case DISCARDING -> {
        content.release();
        if (last) {
          state = State.IDLE;
        }
      }
      default ->
          // Content without a request follows a rejected request whose connection closes, or is
          // the empty last content of a bodiless request already being answered.
          content.release();
    }
  }

  /** The exchange can take more request body (true) or not yet (false). */
  void readBody(boolean more) {
    bodyPaused = !more;
    updateReading();
  }

  private void updateReading() {
    boolean read = state == State.CLOSING || (!bodyPaused && backlog.size() <= MAX_BACKLOG);
    Channel ch = ctx.channel();
    if (ch.config().isAutoRead() != read) {
      ch.config().setAutoRead(read);
      if (read) {
        ctx.read();
      }
    }
  }

  // ---------------------------------------------------------------- answers

  /** Answers a request the gateway refuses before any function sees it. */
  private void reject(HttpRequest req, Problem p, boolean close) {
    boolean keepAlive = !close && HttpUtil.isKeepAlive(req);
    boolean failed = req.decoderResult().isFailure();
    String instance = failed ? null : safeInstance(req.uri());
    boolean head = !failed && Admission.isHead(req);
    var response = ProblemJson.response(p, instance, !keepAlive, head);
    String requestId = ForwardedHeaders.requestId(req.headers());
    response.headers().set(ForwardedHeaders.REQUEST_ID, requestId);
    AccessLog.Entry log =
        new AccessLog.Entry(
            requestId,
            p.function() != null ? p.function() : "-",
            failed ? "-" : req.method().name(),
            instance != null ? instance : "-",
            clientIp(),
            null);
    metrics.rejected(p.status(), p.type());
    log.status(p.status());
    log.done(0);
    if (!keepAlive) {
      state = State.CLOSING;
      ctx.writeAndFlush(response).addListener(f -> closeGracefully());
      return;
    }
    ctx.writeAndFlush(response);
    state = State.DISCARDING; // until the request's last content
  }

  private static String safeInstance(String uri) {
    int q = uri.indexOf('?');
    String path = q >= 0 ? uri.substring(0, q) : uri;
    return path.length() > 200 || !path.chars().allMatch(c -> c > 0x20 && c < 0x7f) ? null : path;
  }

  /** Runs on the event loop once a response has been written. */
  private void responseComplete(boolean close) {
    exchange = null;
    responder = null;
    bodyPaused = false;
    if (close || state == State.RECEIVING) {
      // Answered before the body finished arriving: the rest cannot be trusted to be small.
      closeGracefully();
      return;
    }
    state = State.IDLE;
    replaying = true;
    try {
      while (!backlog.isEmpty()
          && state != State.RESPONDING
          && state != State.CLOSING
          && ctx.channel().isActive()) {
        channelRead(ctx, backlog.poll());
      }
    } finally {
      replaying = false;
    }
    updateReading();
  }

  /**
   * Ends the connection after the last response: half-closes it (the client reads the end of the
   * response, then the end of the stream) and keeps reading and discarding what the client still
   * sends until it closes too, or for {@link #LINGER_MILLIS} at most.
   */
  private void closeGracefully() {
    state = State.CLOSING;
    while (!backlog.isEmpty()) {
      ReferenceCountUtil.release(backlog.poll());
    }
    Channel ch = ctx.channel();
    if (!ch.isActive()) {
      return;
    }
    if (ch instanceof DuplexChannel duplex && !duplex.isOutputShutdown()) {
      duplex
          .shutdownOutput()
          .addListener(
              f -> {
                if (!f.isSuccess()) {
                  ch.close();
                }
              });
      ch.eventLoop().schedule(() -> ch.close(), LINGER_MILLIS, TimeUnit.MILLISECONDS);
      updateReading();
    } else {
      ch.close();
    }
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) throws Exception {
    count(false);
    Exchange e = exchange;
    if (e != null) {
      e.clientGone();
    }
    while (!backlog.isEmpty()) {
      ReferenceCountUtil.release(backlog.poll());
    }
    super.channelInactive(ctx);
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
    if (HeadDeadline.EXPIRED.equals(evt)) {
      if (state == State.IDLE && backlog.isEmpty()) {
        state = State.CLOSING;
        metrics.rejected(408, "header-timeout");
        ctx.writeAndFlush(
                ProblemJson.response(
                    Problem.of(408, "bad-request", "Request Timeout")
                        .detail(
                            "the request head did not arrive completely within the header timeout")
                        .build(),
                    null,
                    true,
                    false))
            .addListener(f -> closeGracefully());
      }
      return;
    }
    if (evt instanceof IdleStateEvent) {
      if ((state == State.IDLE && backlog.isEmpty()) || state == State.CLOSING) {
        ctx.close(); // idle keep-alive connection
      } else if (state == State.RECEIVING && exchange != null) {
        exchange.clientGone(); // the client stopped sending the request body
        ctx.close();
      }
      return;
    }
    super.userEventTriggered(ctx, evt);
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    if (kind == Kind.H2_STREAM
        && io.netty.handler.codec.http2.Http2CodecUtil.getEmbeddedHttp2Exception(cause) != null) {
      // A request the conversion refused (no :path, say): a malformed request (RFC 9113 8.1.1).
      LOG.fine(() -> "malformed HTTP/2 request: " + cause);
      ctx.writeAndFlush(
              new io.netty.handler.codec.http2.DefaultHttp2ResetFrame(
                  io.netty.handler.codec.http2.Http2Error.PROTOCOL_ERROR))
          .addListener(f -> ctx.close());
      return;
    }
    if (cause instanceof IOException) {
      LOG.fine(() -> "connection error: " + cause);
    } else {
      LOG.log(Level.WARNING, "connection error", cause);
    }
    ctx.close();
  }
}
