package dev.locallambdas.frontdoor;

import dev.locallambdas.admin.AdminApi;
import dev.locallambdas.cache.ResponseCache;
import dev.locallambdas.function.FunctionPool;
import dev.locallambdas.metrics.GatewayMetrics;
import dev.locallambdas.routing.RouteTable;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;
import io.netty.handler.flush.FlushConsolidationHandler;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.AsciiString;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * HTTP/2 on the front door (docs/http2.md): Netty's frame codec checks the frames and header blocks
 * (RFC 9113) and enforces the limits below; the multiplexer gives every stream a child channel
 * whose pipeline turns frames into the HTTP/1.x messages the HTTP/1.1 front door already serves, so
 * a stream gets the same {@link Admission}, {@link Dispatch}, {@link Responder} and cache as an
 * HTTP/1.1 request. A stream channel's writes complete only when the stream's flow-control window
 * let the bytes out, and an unread stream channel sends no WINDOW_UPDATE: the per-stream windows
 * reach the function's credits the way the socket does on HTTP/1.1.
 */
final class Http2Front {
  private static final Logger LOG = Logger.getLogger("dev.locallambdas.frontdoor");

  /** Streams a client may have open at once (SETTINGS_MAX_CONCURRENT_STREAMS). */
  static final int MAX_CONCURRENT_STREAMS = 128;

  /** Decoded header list size (SETTINGS_MAX_HEADER_LIST_SIZE), as the HTTP/1.1 header limit. */
  static final int MAX_HEADER_LIST_SIZE = FrontDoor.MAX_HEADER_SIZE;

  /** Each stream's receive window: as much request body as a function's credit window. */
  static final int INITIAL_WINDOW = 256 * 1024;

  /**
   * RST_STREAM frames a client may send in {@link #RST_WINDOW_SECONDS} before the connection is
   * ended with GOAWAY (ENHANCE_YOUR_CALM): the "rapid reset" attack (CVE-2023-44487) opens and
   * cancels streams faster than a server can notice. The same bound applies to the resets the
   * gateway sends because of what the client did ("MadeYouReset", CVE-2025-55163).
   */
  static final int MAX_RST_PER_WINDOW = 200;

  static final int RST_WINDOW_SECONDS = 30;

  /**
   * CONTINUATION frames without END_HEADERS carrying less than 16 KiB each, in a row, before the
   * connection is ended: the CONTINUATION flood (2024) sends endless small ones. Large ones are
   * bounded by the header list size.
   */
  static final int MAX_SMALL_CONTINUATIONS = 16;

  /** Stream flushes gathered into one connection flush at most (FlushConsolidationHandler). */
  static final int FLUSHES_BEFORE_EXPLICIT = 256;

  /** Control frames (PING and SETTINGS acks, RST_STREAM) queued unsent before GOAWAY: floods. */
  static final int MAX_QUEUED_CONTROL_FRAMES = 1000;

  private Http2Front() {}

  /** The settings the gateway announces. */
  static Http2Settings settings() {
    return Http2Settings.defaultSettings()
        .maxConcurrentStreams(MAX_CONCURRENT_STREAMS)
        .maxHeaderListSize(MAX_HEADER_LIST_SIZE)
        .initialWindowSize(INITIAL_WINDOW); // a server must not send ENABLE_PUSH (RFC 9113 6.5.2)
  }

  static Http2FrameCodec codec() {
    return Http2FrameCodecBuilder.forServer()
        .initialSettings(settings())
        .validateHeaders(true)
        .validateRequiredPseudoHeaders(true)
        .decoderEnforceMaxRstFramesPerWindow(MAX_RST_PER_WINDOW, RST_WINDOW_SECONDS)
        .encoderEnforceMaxRstFramesPerWindow(MAX_RST_PER_WINDOW, RST_WINDOW_SECONDS)
        .decoderEnforceMaxSmallContinuationFrames(MAX_SMALL_CONTINUATIONS)
        .decoderEnforceMaxConsecutiveEmptyDataFrames(2)
        .encoderEnforceMaxQueuedControlFrames(MAX_QUEUED_CONTROL_FRAMES)
        .gracefulShutdownTimeoutMillis(ConnectionHandler.LINGER_MILLIS)
        .headerSensitivityDetector(Http2Front::unique)
        .build();
  }

  /**
   * Response fields whose value is new in every response: HPACK sends them as literals never
   * indexed, rather than inserting each value into the dynamic table, where it evicts the fields
   * that do repeat (content-type, cache-control) and costs a table insert per response for nothing.
   */
  private static boolean unique(CharSequence name, CharSequence value) {
    return AsciiString.contentEquals(name, ForwardedHeaders.REQUEST_ID)
        || AsciiString.contentEquals(name, HttpHeaderNames.AGE)
        || AsciiString.contentEquals(name, HttpHeaderNames.DATE);
  }

  /**
   * Adds the HTTP/2 handlers at the end of {@code pipeline} (the connection's HTTP/1.1 handlers, if
   * any, are gone). {@code tls}: the connection is HTTPS (the function sees X-Forwarded-Proto
   * https).
   */
  static void configure(
      ChannelPipeline pipeline,
      Http2FrameCodec codec,
      java.util.function.Supplier<RouteTable<FunctionPool>> routes,
      ResponseCache cache,
      AdminApi admin,
      GatewayMetrics metrics,
      TrustedProxies trustedProxies,
      boolean tls) {
    if (pipeline.get("idle") == null) {
      pipeline.addLast(
          "idle", new IdleStateHandler(FrontDoor.KEEP_ALIVE_IDLE_SECONDS, 0, 0, TimeUnit.SECONDS));
    }
    pipeline.addLast("h2", codec);
    ChannelHandler[] after = afterCodec(codec, routes, cache, admin, metrics, trustedProxies, tls);
    pipeline
        .addLast("h2-flush", after[0])
        .addLast("h2-streams", after[1])
        .addLast("h2-connection", after[2]);
  }

  /**
   * The handlers after the frame codec: flush consolidation, the stream multiplexer, then the
   * connection's own.
   *
   * <p>Flush consolidation: a stream's flush flushes the whole connection (the codec writes what
   * flow control lets out, then the socket). Responses that functions finish outside a read of this
   * connection — most of them — each flushed on their own, one syscall per response even when a
   * pipe read delivered eight of this connection's answers together. Between the codec and the
   * streams, Netty's {@link FlushConsolidationHandler} turns the flushes of one turn of the event
   * loop into one (at once after 256), and leaves flushes during a read to the read's end, as the
   * multiplexer already does.
   */
  static ChannelHandler[] afterCodec(
      Http2FrameCodec codec,
      java.util.function.Supplier<RouteTable<FunctionPool>> routes,
      ResponseCache cache,
      AdminApi admin,
      GatewayMetrics metrics,
      TrustedProxies trustedProxies,
      boolean tls) {
    return new ChannelHandler[] {
      new FlushConsolidationHandler(FLUSHES_BEFORE_EXPLICIT, true),
      new Http2MultiplexHandler(
          streamInitializer(routes, cache, admin, metrics, trustedProxies, tls)),
      new Connection(codec, metrics)
    };
  }

  /** Responses to frames (requests are {@link StreamRequests}' to convert; it comes first). */
  private static final ChannelHandler RESPONSES = new Http2StreamFrameToHttpObjectCodec(true, true);

  static ChannelInitializer<Http2StreamChannel> streamInitializer(
      java.util.function.Supplier<RouteTable<FunctionPool>> routes,
      ResponseCache cache,
      AdminApi admin,
      GatewayMetrics metrics,
      TrustedProxies trustedProxies,
      boolean tls) {
    return new ChannelInitializer<>() {
      @Override
      protected void initChannel(Http2StreamChannel ch) {
        // No idle timer here: a stream that has a request body gets one when its head is read
        // (ConnectionHandler); a bodiless stream has nothing left to wait for from the client.
        ch.pipeline()
            .addLast("requests", StreamRequests.INSTANCE)
            .addLast("codec", RESPONSES)
            .addLast(
                "gateway",
                new ConnectionHandler(
                    routes,
                    cache,
                    admin,
                    metrics,
                    trustedProxies,
                    ConnectionHandler.Kind.H2_STREAM,
                    tls));
      }
    };
  }

  /**
   * The HTTP/2 connection itself: counts it as one connection (its streams are not), and closes it
   * (GOAWAY NO_ERROR, then the socket) after the keep-alive idle time with no stream open.
   */
  private static final class Connection extends ChannelInboundHandlerAdapter {
    private final Http2FrameCodec codec;
    private final GatewayMetrics metrics;
    private boolean counted;

    Connection(Http2FrameCodec codec, GatewayMetrics metrics) {
      this.codec = codec;
      this.metrics = metrics;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
      if (ctx.channel().isActive()) {
        count();
      }
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
      count();
      ctx.fireChannelActive();
    }

    private void count() {
      if (!counted) {
        counted = true;
        metrics.connectionOpened();
      }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      if (counted) {
        counted = false;
        metrics.connectionClosed();
      }
      ctx.fireChannelInactive();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
      if (evt instanceof IdleStateEvent) {
        if (codec.connection().numActiveStreams() == 0) {
          ctx.close(); // the codec says GOAWAY first
        }
        return;
      }
      ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      // Socket errors end the connection; protocol errors are the codec's to answer.
      LOG.log(Level.FINE, "HTTP/2 connection error", cause);
      if (Http2CodecUtil.getEmbeddedHttp2Exception(cause) != null) {
        // The codec tells the handlers first, then sends GOAWAY with the error's code and closes:
        // closing here would send GOAWAY(NO_ERROR) before it.
        return;
      }
      ctx.close();
    }
  }
}
