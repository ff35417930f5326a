package dev.locallambdas.frontdoor;

import dev.locallambdas.exchange.BodySource;
import dev.locallambdas.exchange.BodyTooLargeException;
import dev.locallambdas.exchange.ClientGoneException;
import dev.locallambdas.exchange.Headers;
import dev.locallambdas.exchange.Problem;
import dev.locallambdas.exchange.Request;
import dev.locallambdas.function.FunctionPool;
import dev.locallambdas.routing.BadTargetException;
import dev.locallambdas.routing.RequestTarget;
import dev.locallambdas.routing.RouteTable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
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
import java.util.ArrayDeque;
import java.util.List;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * One client connection. Runs on its event loop; each routed request is served on its own virtual
 * thread, one at a time per connection, so pipelined requests are answered in order (messages of
 * the next request wait in {@code backlog} until the current response is written).
 */
final class ConnectionHandler extends ChannelInboundHandlerAdapter {
  private static final Logger LOG = Logger.getLogger("dev.locallambdas.frontdoor");
  private static final int MAX_BACKLOG = 64;
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
    DISCARDING
  }

  private final RouteTable<FunctionPool> routes;
  private final ArrayDeque<Object> backlog = new ArrayDeque<>();
  private ChannelHandlerContext ctx;
  private State state = State.IDLE;
  private StreamingBody body;
  private ChannelResponseSink sink;
  private Thread worker;
  private boolean replaying;

  ConnectionHandler(RouteTable<FunctionPool> routes) {
    this.routes = routes;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (state == State.RESPONDING || (!backlog.isEmpty() && !replaying)) {
      backlog.add(msg);
      if (backlog.size() > MAX_BACKLOG) {
        ctx.channel().config().setAutoRead(false);
      }
      return;
    }
    if (msg instanceof HttpRequest request) {
      try {
        onRequest(request);
      } finally {
        if (!(msg instanceof HttpContent)) {
          ReferenceCountUtil.release(msg);
        }
      }
    }
    if (msg instanceof HttpContent content) {
      try {
        onContent(content);
      } finally {
        content.release();
      }
    }
  }

  private void onRequest(HttpRequest req) {
    if (req.decoderResult().isFailure()) {
      Throwable cause = req.decoderResult().cause();
      int status = 400;
      String why = "the request is not valid HTTP/1.1: " + cause.getMessage();
      if (cause instanceof TooLongHttpLineException) {
        status = 414;
        why = "the request line is longer than the gateway accepts (8 KiB)";
      } else if (cause instanceof TooLongHttpHeaderException || cause instanceof TooLongFrameException) {
        status = 431;
        why = "the request headers are larger than the gateway accepts (16 KiB)";
      }
      reject(req, Problem.of(status, "bad-request", HttpResponseStatus.valueOf(status).reasonPhrase()).detail(why).build(), true);
      return;
    }
    boolean http11 = req.protocolVersion().equals(HttpVersion.HTTP_1_1);
    if (!http11 && !req.protocolVersion().equals(HttpVersion.HTTP_1_0)) {
      reject(req, badRequest(505, "HTTP Version Not Supported", "only HTTP/1.0 and HTTP/1.1 are supported"), true);
      return;
    }
    List<String> hosts = req.headers().getAll(HttpHeaderNames.HOST);
    if ((http11 && hosts.size() != 1) || hosts.size() > 1) {
      reject(req, badRequest(400, "Bad Request", "an HTTP/1.1 request needs exactly one Host header"), true);
      return;
    }
    boolean chunked = req.headers().contains(HttpHeaderNames.TRANSFER_ENCODING);
    if (chunked && req.headers().contains(HttpHeaderNames.CONTENT_LENGTH)) {
      reject(req, badRequest(400, "Bad Request", "Content-Length and Transfer-Encoding must not both be sent"), true);
      return;
    }
    RequestTarget target;
    try {
      target = RequestTarget.parse(req.uri());
    } catch (BadTargetException e) {
      reject(req, badRequest(400, "Bad Request", "bad request target: " + e.getMessage()), true);
      return;
    }
    RouteTable.Match<FunctionPool> match = routes.match(target.path());
    if (match == null) {
      reject(
          req,
          Problem.of(404, "no-route", "Not Found")
              .detail("no function is routed at " + target.path() + "; add a <route> for it to the manifest")
              .build(),
          false);
      return;
    }
    FunctionPool pool = match.target();
    long max = pool.spec().maxBodyBytes();
    long length = chunked ? -1 : HttpUtil.getContentLength(req, 0L);
    if (length > max) {
      reject(
          req,
          Problem.of(413, "body-too-large", "Content Too Large")
              .function(pool.spec().id())
              .detail(
                  "the request body of " + length + " bytes is larger than the " + max
                      + " bytes function '" + pool.spec().id() + "' accepts (<max_body_size>)")
              .build(),
          true);
      return;
    }
    String expect = req.headers().get(HttpHeaderNames.EXPECT);
    if (expect != null) {
      if (!expect.equalsIgnoreCase("100-continue")) {
        reject(req, badRequest(417, "Expectation Failed", "only 'Expect: 100-continue' is supported, not '" + expect + "'"), true);
        return;
      }
      if (http11 && (chunked || length > 0)) {
        ctx.writeAndFlush(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.CONTINUE));
      }
    }
    BodySource source;
    if (chunked || length > 0) {
      body = new StreamingBody(length, max, this::pauseReading, this::resumeReadingFromWorker);
      source = body;
    } else {
      body = null;
      source = BodySource.empty();
    }
    String clientIp = clientIp();
    Headers headers = ForwardedHeaders.forFunction(req.headers(), clientIp, hosts.isEmpty() ? null : hosts.get(0));
    Request request = new Request(req.method().name(), target.path(), target.query(), headers, source, clientIp);
    ChannelResponseSink s =
        new ChannelResponseSink(
            ctx.channel(),
            req.method().equals(HttpMethod.HEAD),
            !http11,
            HttpUtil.isKeepAlive(req),
            () -> ctx.executor().execute(this::responseComplete));
    sink = s;
    state = State.RECEIVING;
    worker = WORKERS.newThread(() -> serve(pool, request, s, target.path()));
    worker.start();
  }

  private static Problem badRequest(int status, String title, String detail) {
    return Problem.of(status, "bad-request", title).detail(detail).build();
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
      if (body != null) {
        body.fail(new IOException("malformed request body: " + content.decoderResult().cause().getMessage()));
      }
      if (sink != null && !sink.committed() && state == State.RECEIVING) {
        sink.closeAfter();
      } else {
        ctx.close();
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

  private void serve(FunctionPool pool, Request request, ChannelResponseSink s, String path) {
    try {
      pool.invoke(request, s);
    } catch (Problem p) {
      answer(s, p, path, false);
    } catch (BodyTooLargeException e) {
      answer(
          s,
          Problem.of(413, "body-too-large", "Content Too Large")
              .function(pool.spec().id())
              .detail("the request body is larger than the " + e.limit() + " bytes function '" + pool.spec().id() + "' accepts (<max_body_size>)")
              .build(),
          path,
          true);
    } catch (ClientGoneException e) {
      LOG.fine(() -> "client gone: " + e.getMessage());
      s.abort();
    } catch (IOException e) {
      if (s.committed()) {
        LOG.warning(pool.spec().id() + ": response aborted after it started: " + e.getMessage());
        s.abort();
      } else {
        answer(
            s,
            Problem.of(502, "function-failed", "Bad Gateway")
                .function(pool.spec().id())
                .detail("function '" + pool.spec().id() + "' failed: " + e.getMessage())
                .build(),
            path,
            false);
      }
    } catch (RuntimeException | Error e) {
      LOG.log(Level.SEVERE, "unexpected failure serving " + path, e);
      answer(
          s,
          Problem.of(500, "internal-error", "Internal Server Error")
              .function(pool.spec().id())
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
    s.writeFull((DefaultFullHttpResponse) ProblemJson.response(p, path, close), close);
  }

  /** Answers a request the gateway refuses before any function sees it. */
  private void reject(HttpRequest req, Problem p, boolean close) {
    boolean keepAlive = !close && HttpUtil.isKeepAlive(req);
    String instance = req.decoderResult().isFailure() ? null : safeInstance(req.uri());
    var response = ProblemJson.response(p, instance, !keepAlive);
    if (!keepAlive) {
      ctx.writeAndFlush(response).addListener(f -> ctx.close());
      state = State.DISCARDING;
      return;
    }
    ctx.writeAndFlush(response);
    state = req instanceof LastHttpContent ? State.IDLE : State.DISCARDING;
  }

  private static String safeInstance(String uri) {
    int q = uri.indexOf('?');
    String path = q >= 0 ? uri.substring(0, q) : uri;
    return path.length() > 200 || !path.chars().allMatch(c -> c > 0x20 && c < 0x7f) ? null : path;
  }

  private void responseComplete() {
    worker = null;
    sink = null;
    if (state == State.RECEIVING) {
      // Answered before the body finished arriving: the rest cannot be trusted to be small.
      body = null;
      ctx.close();
      return;
    }
    state = State.IDLE;
    body = null;
    replaying = true;
    try {
      while (!backlog.isEmpty() && state != State.RESPONDING && ctx.channel().isActive()) {
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
    if (evt instanceof IdleStateEvent) {
      if (state == State.IDLE && backlog.isEmpty()) {
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
