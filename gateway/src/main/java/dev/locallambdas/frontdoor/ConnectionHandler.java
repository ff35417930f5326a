package dev.locallambdas.frontdoor;

import dev.locallambdas.admin.AdminApi;
import dev.locallambdas.cache.FunctionCache;
import dev.locallambdas.cache.Lookup;
import dev.locallambdas.cache.RequestFields;
import dev.locallambdas.cache.ResponseCache;
import dev.locallambdas.exchange.BodySource;
import dev.locallambdas.exchange.BodyTooLargeException;
import dev.locallambdas.exchange.ClientGoneException;
import dev.locallambdas.exchange.Headers;
import dev.locallambdas.exchange.Problem;
import dev.locallambdas.exchange.Request;
import dev.locallambdas.exchange.ResponseSink;
import dev.locallambdas.function.FunctionPool;
import dev.locallambdas.routing.BadTargetException;
import dev.locallambdas.routing.RequestTarget;
import dev.locallambdas.routing.RouteTable;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * One client connection. Runs on its event loop; each routed request is served on its own virtual
 * thread, one at a time per connection, so pipelined requests are answered in order (messages of
 * the next request wait in {@code backlog} until the current response is written).
 *
 * <p>Everything the gateway refuses is refused here, on the event loop, before a function is
 * involved: malformed requests (400, or 505 for another major HTTP version), oversized request
 * lines (414) and headers (431), unknown routes (404), declared bodies over the function's limit
 * (413), transfer codings other than chunked (501) and expectations other than 100-continue (417).
 * See docs/frontdoor.md.
 */
final class ConnectionHandler extends ChannelInboundHandlerAdapter {
  private static final Logger LOG = Logger.getLogger("dev.locallambdas.frontdoor");
  private static final int MAX_BACKLOG = 64;

  /** Methods every function accepts; others only when its manifest lists them (<method>). */
  private static final java.util.Set<String> STANDARD_METHODS =
      java.util.Set.of("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS");

  /**
   * After a response that ends the connection, how long unread input is still read and thrown away
   * (RFC 9112 section 9.6): closing at once while the client is still sending makes the kernel
   * answer with a reset, which can destroy the response before the client reads it.
   */
  static final long LINGER_MILLIS = 2_000;

  private static final java.util.concurrent.ThreadFactory WORKERS =
      Thread.ofVirtual().name("request-", 1).factory();

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

  private final RouteTable<FunctionPool> routes;
  private final ResponseCache cache;
  private final AdminApi admin;
  private final ArrayDeque<Object> backlog = new ArrayDeque<>();
  private ChannelHandlerContext ctx;

  /** Writes through here skip the HTTP encoder: cache hits are already encoded. */
  private ChannelHandlerContext rawWriter;

  private State state = State.IDLE;
  private StreamingBody body;
  private ChannelResponseSink sink;
  private Thread worker;
  private boolean replaying;

  ConnectionHandler(RouteTable<FunctionPool> routes, ResponseCache cache, AdminApi admin) {
    this.routes = routes;
    this.cache = cache;
    this.admin = admin;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
    ChannelHandlerContext encoder = ctx.pipeline().context("encoder");
    this.rawWriter = encoder != null ? encoder : ctx;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (state == State.CLOSING) {
      ReferenceCountUtil.release(msg);
      return;
    }
    if (state == State.RESPONDING || (!backlog.isEmpty() && !replaying)) {
      backlog.add(msg);
      if (backlog.size() > MAX_BACKLOG) {
        ctx.channel().config().setAutoRead(false);
      }
      return;
    }
    try {
      if (msg instanceof HttpRequest request) {
        onRequest(request);
      }
      if (msg instanceof HttpContent content && state != State.CLOSING) {
        onContent(content);
      }
    } finally {
      ReferenceCountUtil.release(msg);
    }
  }

  private void onRequest(HttpRequest req) {
    if (req.decoderResult().isFailure()) {
      Throwable cause = req.decoderResult().cause();
      if (cause instanceof TooLongHttpLineException) {
        reject(
            req,
            problem(
                414, "URI Too Long", "the request line is longer than the gateway accepts (8 KiB)"),
            true);
      } else if (cause instanceof TooLongHttpHeaderException
          || cause instanceof TooLongFrameException) {
        reject(
            req,
            problem(
                431,
                "Request Header Fields Too Large",
                "the request headers are larger than the gateway accepts (16 KiB)"),
            true);
      } else {
        reject(
            req,
            problem(400, "Bad Request", "the request is not valid HTTP/1.1: " + cause.getMessage()),
            true);
      }
      return;
    }
    HttpVersion version = req.protocolVersion();
    if (version.majorVersion() != 1) {
      reject(
          req,
          problem(
              505,
              "HTTP Version Not Supported",
              "only HTTP/1.0 and HTTP/1.1 are supported, not " + version.text()),
          true);
      return;
    }
    // HTTP/1.2 and later minor versions are served as HTTP/1.1 (RFC 9112 section 2.3).
    boolean http10 = version.minorVersion() == 0;
    HttpHeaders h = req.headers();
    List<String> hosts = h.getAll(HttpHeaderNames.HOST);
    if ((!http10 && hosts.size() != 1) || hosts.size() > 1) {
      reject(
          req,
          problem(
              400,
              "Bad Request",
              "an HTTP/1.1 request needs exactly one Host header, not " + hosts.size()),
          true);
      return;
    }
    String host = hosts.isEmpty() ? null : hosts.get(0);
    if (host != null && !AbsoluteForm.validHost(host)) {
      reject(req, problem(400, "Bad Request", "the Host header is not a valid host[:port]"), true);
      return;
    }
    String transferEncoding = h.get(HttpHeaderNames.TRANSFER_ENCODING);
    boolean chunked = transferEncoding != null;
    if (chunked && h.contains(HttpHeaderNames.CONTENT_LENGTH)) {
      reject(
          req,
          problem(400, "Bad Request", "Content-Length and Transfer-Encoding must not both be sent"),
          true);
      return;
    }
    if (chunked && !transferEncoding.strip().equalsIgnoreCase("chunked")) {
      // Netty already refused a final coding other than chunked (400, RFC 9112 section 6.3); a
      // coding applied before chunked (gzip, chunked) is one the gateway does not implement.
      reject(
          req,
          problem(
              501,
              "Not Implemented",
              "the only transfer coding the gateway accepts is chunked; send the body without '"
                  + transferEncoding
                  + "'"),
          true);
      return;
    }
    String uri = req.uri();
    if (!uri.isEmpty() && uri.charAt(0) != '/') {
      // Absolute-form (RFC 9112 section 3.2.2: a server MUST accept it): its authority replaces
      // the Host field, and the request is routed by its path.
      int pathStart = AbsoluteForm.pathStart(uri);
      if (pathStart < 0) {
        reject(
            req,
            problem(
                400,
                "Bad Request",
                "the request target must be a path (/a/b) or an absolute http URI (http://host/a/b) without user info"),
            true);
        return;
      }
      host = AbsoluteForm.authority(uri, pathStart);
      uri =
          pathStart == uri.length() || uri.charAt(pathStart) == '?'
              ? "/" + uri.substring(pathStart)
              : uri.substring(pathStart);
    }
    RequestTarget target;
    try {
      target = RequestTarget.parse(uri);
    } catch (BadTargetException e) {
      reject(req, problem(400, "Bad Request", "bad request target: " + e.getMessage()), true);
      return;
    }
    if (admin != null && AdminApi.owns(target.path())) {
      serveAdmin(req, target, host, http10);
      return;
    }
    RouteTable.Match<FunctionPool> match = routes.match(target.path());
    if (match == null) {
      reject(
          req,
          Problem.of(404, "no-route", "Not Found")
              .detail(
                  "no function is routed at "
                      + target.path()
                      + "; add a <route> for it to the manifest")
              .build(),
          false);
      return;
    }
    FunctionPool pool = match.target();
    String method = req.method().name();
    if (!STANDARD_METHODS.contains(method) && !pool.spec().extraMethods().contains(method)) {
      reject(
          req,
          Problem.of(501, "method-not-implemented", "Not Implemented")
              .function(pool.spec().id())
              .detail(
                  "function '"
                      + pool.spec().id()
                      + "' does not accept method "
                      + method
                      + "; add <method>"
                      + method
                      + "</method> to it in the manifest to pass it on")
              .build(),
          true);
      return;
    }
    long max = pool.spec().maxBodyBytes();
    long length = chunked ? -1 : HttpUtil.getContentLength(req, 0L);
    if (length > max) {
      reject(
          req,
          tooLarge(
              pool.spec().id(), "the request body of " + length + " bytes is larger than", max),
          true);
      return;
    }
    String expect = h.get(HttpHeaderNames.EXPECT);
    if (expect != null) {
      if (!expect.strip().equalsIgnoreCase("100-continue")
          || h.getAll(HttpHeaderNames.EXPECT).size() > 1) {
        reject(
            req,
            problem(
                417,
                "Expectation Failed",
                "only 'Expect: 100-continue' is supported, not '" + expect + "'"),
            true);
        return;
      }
      // HTTP/1.0 clients do not know 100-continue (RFC 9110 section 10.1.1): ignored for them.
      if (!http10 && (chunked || length > 0)) {
        ctx.writeAndFlush(
            new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.CONTINUE));
      }
    }
    boolean headRequest = req.method().equals(HttpMethod.HEAD);
    boolean keepAlive = HttpUtil.isKeepAlive(req);
    FunctionCache functionCache =
        cache == null || chunked || length > 0 ? null : cache.function(pool.spec().id());
    Lookup lookup = null;
    if (functionCache != null) {
      lookup = functionCache.lookup(req.method().name(), target.path(), target.query(), fields(h));
      if (lookup instanceof Lookup.Hit hit) {
        ChannelFuture written = writeHit(hit, headRequest, keepAlive, http10);
        if (!keepAlive) {
          state = State.CLOSING;
          written.addListener(f -> closeGracefully());
        }
        return; // state stays IDLE: the request's empty last content is ignored
      }
    }
    BodySource source;
    StreamingBody b;
    if (chunked || length > 0) {
      b = new StreamingBody(length, max, this::pauseReading, this::resumeReadingFromWorker);
      source = b;
    } else {
      b = null;
      source = BodySource.empty();
    }
    body = b;
    String clientIp = clientIp();
    Headers headers =
        ForwardedHeaders.forFunction(h, clientIp, host == null || host.isEmpty() ? null : host);
    Request request =
        new Request(req.method().name(), target.path(), target.query(), headers, source, clientIp);
    ChannelResponseSink s =
        new ChannelResponseSink(
            ctx.channel(), headRequest, http10, keepAlive, this::responseComplete);
    sink = s;
    state = State.RECEIVING;
    if (lookup instanceof Lookup.Wait wait) {
      // Another request is fetching this URL: wait for its response without holding a thread.
      wait.outcome()
          .thenAcceptAsync(
              next ->
                  afterWait(next, pool, request, s, headRequest, keepAlive, http10, target.path()),
              ctx.executor());
      return;
    }
    startWorker(pool, request, s, b, target.path(), (Lookup.Forward) lookup);
  }

  private void startWorker(
      FunctionPool pool,
      Request request,
      ChannelResponseSink s,
      StreamingBody b,
      String path,
      Lookup.Forward forward) {
    worker =
        WORKERS.newThread(
            () -> {
              try {
                serve(pool, request, forward == null ? s : forward.sink(s), s, b, path);
              } finally {
                if (forward != null) {
                  forward.done(); // lets waiting requests proceed, stored or not
                }
              }
            });
    worker.start();
  }

  private void afterWait(
      Lookup next,
      FunctionPool pool,
      Request request,
      ChannelResponseSink s,
      boolean headRequest,
      boolean keepAlive,
      boolean http10,
      String path) {
    if (!ctx.channel().isActive() || sink != s) {
      if (next instanceof Lookup.Forward f) {
        f.done();
      }
      return;
    }
    if (next instanceof Lookup.Hit hit) {
      writeHit(hit, headRequest, keepAlive, http10)
          .addListener(f -> responseComplete(!keepAlive || !f.isSuccess()));
    } else {
      startWorker(pool, request, s, null, path, (Lookup.Forward) next);
    }
  }

  private ChannelFuture writeHit(Lookup.Hit hit, boolean head, boolean keepAlive, boolean http10) {
    return rawWriter.writeAndFlush(
        CachedResponses.render(ctx.alloc(), hit, head, keepAlive, http10));
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

  private void serveAdmin(HttpRequest req, RequestTarget target, String host, boolean http10) {
    ChannelResponseSink s =
        new ChannelResponseSink(
            ctx.channel(),
            req.method().equals(HttpMethod.HEAD),
            http10,
            HttpUtil.isKeepAlive(req),
            this::responseComplete);
    sink = s;
    body = null;
    state = State.RECEIVING;
    java.net.InetAddress peer =
        ctx.channel().remoteAddress() instanceof InetSocketAddress a ? a.getAddress() : null;
    String method = req.method().name();
    worker =
        WORKERS.newThread(
            () -> {
              try {
                AdminApi.Answer a = admin.handle(method, target.path(), target.query(), host, peer);
                s.head(
                    a.status(),
                    Headers.builder()
                        .add("content-type", a.contentType())
                        .add("cache-control", "no-store")
                        .build(),
                    a.body().length);
                s.body(ByteBuffer.wrap(a.body()));
                s.end();
              } catch (Problem p) {
                answer(s, p, target.path(), false);
              } catch (IOException e) {
                s.abort();
              } catch (RuntimeException e) {
                LOG.log(Level.SEVERE, "admin request failed: " + target.path(), e);
                answer(
                    s,
                    problem(500, "Internal Server Error", "the admin request failed: " + e),
                    target.path(),
                    true);
              }
            });
    worker.start();
  }

  private static Problem problem(int status, String title, String detail) {
    return Problem.of(status, "bad-request", title).detail(detail).build();
  }

  static Problem tooLarge(String function, String what, long limit) {
    return Problem.of(413, "body-too-large", "Content Too Large")
        .function(function)
        .detail(
            what + " the " + limit + " bytes function '" + function + "' accepts (<max_body_size>)")
        .build();
  }

  private String clientIp() {
    if (ctx.channel().remoteAddress() instanceof InetSocketAddress a) {
      return a.getAddress() != null ? a.getAddress().getHostAddress() : a.getHostString();
    }
    return null;
  }

  private void onContent(HttpContent content) {
    boolean last = content instanceof LastHttpContent;
    if (content.decoderResult().isFailure()) {
      // The decoder gives up on the connection after a malformed body (a bad chunk, say).
      String why = String.valueOf(content.decoderResult().cause().getMessage());
      if (state == State.RECEIVING && body != null) {
        body.failMalformed(why);
        sink.closeAfter(); // the worker answers 400 unless the response already started
        body = null;
      } else if (state == State.RECEIVING) {
        sink.closeAfter();
      } else {
        closeGracefully();
      }
      return;
    }
    switch (state) {
      case RECEIVING -> {
        if (body != null && !body.offer(content.content(), last)) {
          body = null; // over the limit: the worker answers 413 and the connection closes
          sink.closeAfter();
        }
        if (last) {
          state = State.RESPONDING;
        }
      }
      case DISCARDING -> {
        if (last) {
          state = State.IDLE;
        }
      }
      default -> {
        // Content without a request can only follow a rejected request whose connection closes.
      }
    }
  }

  private void serve(
      FunctionPool pool,
      Request request,
      ResponseSink functionSink,
      ChannelResponseSink s,
      StreamingBody b,
      String path) {
    String id = pool.spec().id();
    try {
      pool.invoke(request, functionSink);
    } catch (Problem p) {
      Problem client = b != null ? b.problem(id) : null;
      answer(s, client != null ? client : p, path, client != null);
    } catch (BodyTooLargeException e) {
      answer(s, tooLarge(id, "the request body is larger than", e.limit()), path, true);
    } catch (ClientGoneException e) {
      LOG.fine(() -> "client gone: " + e.getMessage());
      s.abort();
    } catch (IOException e) {
      Problem client = b != null ? b.problem(id) : null;
      if (s.committed()) {
        if (client == null) {
          LOG.warning(id + ": response aborted after it started: " + e.getMessage());
        }
        s.abort();
      } else if (client != null) {
        answer(s, client, path, true);
      } else {
        answer(
            s,
            Problem.of(502, "function-failed", "Bad Gateway")
                .function(id)
                .detail("function '" + id + "' failed: " + e.getMessage())
                .build(),
            path,
            false);
      }
    } catch (RuntimeException | Error e) {
      LOG.log(Level.SEVERE, "unexpected failure serving " + path, e);
      answer(
          s,
          Problem.of(500, "internal-error", "Internal Server Error")
              .function(id)
              .detail("the gateway failed unexpectedly (" + e + "); see its log")
              .build(),
          path,
          true);
    }
  }

  private static void answer(ChannelResponseSink s, Problem p, String path, boolean close) {
    if (s.committed()) {
      s.abort();
      return;
    }
    s.writeProblem(p, path, close);
  }

  /** Answers a request the gateway refuses before any function sees it. */
  private void reject(HttpRequest req, Problem p, boolean close) {
    boolean keepAlive = !close && HttpUtil.isKeepAlive(req);
    boolean failed = req.decoderResult().isFailure();
    String instance = failed ? null : safeInstance(req.uri());
    boolean head = !failed && req.method().equals(HttpMethod.HEAD);
    var response = ProblemJson.response(p, instance, !keepAlive, head);
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
    worker = null;
    sink = null;
    if (close || state == State.RECEIVING) {
      // Answered before the body finished arriving: the rest cannot be trusted to be small.
      body = null;
      closeGracefully();
      return;
    }
    state = State.IDLE;
    body = null;
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
    if (backlog.isEmpty() && !ctx.channel().config().isAutoRead()) {
      ctx.channel().config().setAutoRead(true);
      ctx.read();
    }
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
      if (!ch.config().isAutoRead()) {
        ch.config().setAutoRead(true);
        ctx.read();
      }
    } else {
      ch.close();
    }
  }

  private void pauseReading() {
    ctx.channel().config().setAutoRead(false);
  }

  private void resumeReadingFromWorker() {
    ctx.executor()
        .execute(
            () -> {
              ctx.channel().config().setAutoRead(true);
              ctx.read();
            });
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) throws Exception {
    if (sink != null) {
      sink.wake(false);
    }
    super.channelWritabilityChanged(ctx);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) throws Exception {
    if (body != null) {
      body.fail(new ClientGoneException("client closed the connection"));
    }
    if (sink != null) {
      sink.wake(true);
    }
    Thread w = worker;
    if (w != null) {
      w.interrupt(); // cancels the function's work where the transport allows
    }
    while (!backlog.isEmpty()) {
      ReferenceCountUtil.release(backlog.poll());
    }
    super.channelInactive(ctx);
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
    if (evt == HeadDeadline.EXPIRED) {
      if (state == State.IDLE && backlog.isEmpty()) {
        state = State.CLOSING;
        ctx.writeAndFlush(
                ProblemJson.response(
                    problem(
                        408,
                        "Request Timeout",
                        "the request head did not arrive completely within the header timeout"),
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
      } else if (state == State.RECEIVING && body != null) {
        body.fail(new IOException("the client stopped sending the request body"));
        ctx.close();
      }
      return;
    }
    super.userEventTriggered(ctx, evt);
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    LOG.fine(() -> "connection error: " + cause);
    ctx.close();
  }
}
