package dev.locallambdas.transport.lambda;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;

/**
 * One runtime connection to the Runtime API, on the environment's loop: routes each request,
 * gathers its body up to Lambda's payload limit (a larger one is read and dropped, then refused
 * with 413 as AWS does), and answers. A {@code GET /next} is not answered here: the environment
 * keeps the context and answers when an invocation exists.
 */
final class RuntimeApi extends ChannelInboundHandlerAdapter {
  private static final String PREFIX = "/2018-06-01/runtime/";
  private static final String INVOCATION = PREFIX + "invocation/";

  /** The request routes of the Runtime API. */
  enum Route {
    NEXT,
    RESPONSE,
    ERROR,
    INIT_ERROR,
    NOT_FOUND
  }

  /** A request's route and the request id in its path (null for routes without one). */
  record Target(Route route, String requestId, HttpMethod method) {
    static Target parse(HttpMethod method, String uri) {
      int q = uri.indexOf('?');
      String path = q < 0 ? uri : uri.substring(0, q);
      if (path.equals(INVOCATION + "next")) {
        return new Target(Route.NEXT, null, HttpMethod.GET);
      }
      if (path.equals(PREFIX + "init/error")) {
        return new Target(Route.INIT_ERROR, null, HttpMethod.POST);
      }
      if (path.startsWith(INVOCATION)) {
        String rest = path.substring(INVOCATION.length());
        int slash = rest.indexOf('/');
        if (slash > 0) {
          String id = rest.substring(0, slash);
          String what = rest.substring(slash + 1);
          if (what.equals("response")) {
            return new Target(Route.RESPONSE, id, HttpMethod.POST);
          }
          if (what.equals("error")) {
            return new Target(Route.ERROR, id, HttpMethod.POST);
          }
        }
      }
      return new Target(Route.NOT_FOUND, null, method);
    }
  }

  private final Environment env;
  private Target target;
  private HttpRequest head;
  private boolean keepAlive;
  private CompositeByteBuf body;
  private long bodyBytes;
  private boolean tooLarge;
  private boolean refused;
  private ResponseStream stream;
  private boolean streaming;

  RuntimeApi(Environment env) {
    this.env = env;
  }

  /** The peer is not the environment's runtime: answer it 403 and close. */
  void refuse() {
    refused = true;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    try {
      if (msg instanceof HttpRequest request) {
        begin(ctx, request);
      }
      if (msg instanceof HttpContent content && head != null && streaming) {
        if (stream != null) {
          stream.piece(content.content().retain());
        }
        if (msg instanceof LastHttpContent last) {
          completeStream(ctx, last);
        }
      } else if (msg instanceof HttpContent content && head != null) {
        gather(content.content());
        if (msg instanceof LastHttpContent) {
          complete(ctx);
        }
      }
    } finally {
      ReferenceCountUtil.release(msg);
    }
  }

  private void begin(ChannelHandlerContext ctx, HttpRequest request) {
    if (request.decoderResult().isFailure()) {
      head = null;
      write(ctx, RuntimeAnswer.BAD_REQUEST, false);
      return;
    }
    head = request;
    keepAlive = HttpUtil.isKeepAlive(request);
    target = Target.parse(request.method(), request.uri());
    bodyBytes = 0;
    streaming =
        target.route() == Route.RESPONSE
            && !refused
            && "streaming".equalsIgnoreCase(request.headers().get(ResponseStream.MODE_HEADER));
    if (streaming) {
      // Relayed as it comes, not gathered: no payload limit but the client's pace.
      tooLarge = false;
      body = null;
      stream =
          env.streamStarted(
              target.requestId(),
              ctx.channel(),
              request.headers().get(HttpHeaderNames.CONTENT_TYPE));
      return;
    }
    long declared = HttpUtil.getContentLength(request, -1L);
    tooLarge = declared > RuntimeAnswer.MAX_PAYLOAD;
    body = tooLarge ? null : ctx.alloc().compositeBuffer(1024);
  }

  private void gather(ByteBuf piece) {
    bodyBytes += piece.readableBytes();
    if (tooLarge || !piece.isReadable()) {
      return;
    }
    if (bodyBytes > RuntimeAnswer.MAX_PAYLOAD) {
      tooLarge = true; // read on and drop: the runtime gets its 413 after sending everything
      body.release();
      body = null;
      return;
    }
    body.addComponent(true, piece.retain());
  }

  private void complete(ChannelHandlerContext ctx) {
    HttpRequest request = head;
    Target t = target;
    head = null;
    byte[] payload = new byte[0];
    if (body != null) {
      payload = ByteBufUtil.getBytes(body);
      body.release();
      body = null;
    }
    if (refused) {
      write(ctx, RuntimeAnswer.FOREIGN, false);
      return;
    }
    if (t.route() != Route.NOT_FOUND && !request.method().equals(t.method())) {
      write(ctx, RuntimeAnswer.METHOD_NOT_ALLOWED, keepAlive);
      return;
    }
    String errorType = request.headers().get("Lambda-Runtime-Function-Error-Type");
    switch (t.route()) {
      case NEXT -> env.next(ctx);
      case RESPONSE ->
          write(
              ctx,
              tooLarge
                  ? env.responseTooLarge(t.requestId(), bodyBytes)
                  : env.response(t.requestId(), payload),
              keepAlive);
      case ERROR ->
          write(
              ctx,
              tooLarge
                  ? env.responseTooLarge(t.requestId(), bodyBytes)
                  : env.error(t.requestId(), errorType, payload),
              keepAlive);
      case INIT_ERROR ->
          write(
              ctx,
              tooLarge ? RuntimeAnswer.TOO_LARGE : env.initError(errorType, payload),
              keepAlive);
      case NOT_FOUND -> write(ctx, RuntimeAnswer.NOT_FOUND, keepAlive);
    }
  }

  private void completeStream(ChannelHandlerContext ctx, LastHttpContent last) {
    Target t = target;
    ResponseStream s = stream;
    head = null;
    stream = null;
    streaming = false;
    if (s == null) {
      write(ctx, env.notRunning(t.requestId()), keepAlive); // 400 or 403
      return;
    }
    String errorType = last.trailingHeaders().get(ResponseStream.ERROR_TYPE_TRAILER);
    String errorBody = last.trailingHeaders().get(ResponseStream.ERROR_BODY_TRAILER);
    write(ctx, env.streamEnded(t.requestId(), s, errorType, errorBody), keepAlive);
  }

  static void write(ChannelHandlerContext ctx, RuntimeAnswer answer, boolean keepAlive) {
    byte[] bytes = answer.json().getBytes(StandardCharsets.UTF_8);
    FullHttpResponse r =
        new DefaultFullHttpResponse(
            HttpVersion.HTTP_1_1,
            HttpResponseStatus.valueOf(answer.status()),
            Unpooled.wrappedBuffer(bytes));
    r.headers()
        .set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON)
        .setInt(HttpHeaderNames.CONTENT_LENGTH, bytes.length);
    if (!keepAlive) {
      r.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
      ctx.writeAndFlush(r).addListener(ChannelFutureListener.CLOSE);
    } else {
      ctx.writeAndFlush(r);
    }
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    if (stream != null) {
      env.streamBroken(target.requestId(), stream);
      stream = null;
    }
    if (body != null) {
      body.release();
      body = null;
    }
    env.disconnected(ctx);
    ctx.fireChannelInactive();
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    ctx.close();
  }
}
