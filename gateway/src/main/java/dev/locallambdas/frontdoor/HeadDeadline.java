package dev.locallambdas.frontdoor;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.concurrent.ScheduledFuture;
import io.netty.util.concurrent.Ticker;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * A deadline for a complete request head, against slow-header clients (slowloris): the clock starts
 * with the first byte of a request head and stops when the decoder has the whole head. If it runs
 * out, {@link #EXPIRED} is fired down the pipeline and the connection handler answers 408 and
 * closes (when it is idle: a client still waiting for the previous response is not cut off; the
 * deadline is then checked again one period later). A keep-alive connection with no request started
 * is not timed here: the idle timeout closes it.
 *
 * <p>Two handlers share the state: {@link #bytes()} sits before the decoder and sees raw input,
 * {@link #heads()} sits after it and sees decoded messages. Body bytes (between a head and its last
 * content) never start the clock. While the gateway has stopped reading (a long pipelined backlog)
 * the head cannot complete through any fault of the client's, so the deadline is postponed. Time is
 * the event loop's ticker (tests advance an EmbeddedChannel's). When the connection turns into
 * HTTP/2, {@link H2HeadDeadline} takes over with the same timeout.
 */
final class HeadDeadline {
  /** Fired by {@link #heads()} when a request head did not arrive in time. */
  static final Object EXPIRED =
      new Object() {
        @Override
        public String toString() {
          return "HeadDeadline.EXPIRED";
        }
      };

  private final long timeoutNanos;
  private boolean inHead;
  private boolean inBody;

  /** When the current head must be complete ({@link #ticker}); valid while inHead. */
  private long deadlineNanos;

  /** The event loop's clock (tests advance it). */
  private Ticker ticker = Ticker.systemTicker();

  private ScheduledFuture<?> timer;
  private ChannelHandlerContext headsContext;

  HeadDeadline(Duration timeout) {
    if (timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException("header timeout is " + timeout + ": it must be positive");
    }
    this.timeoutNanos = timeout.toNanos();
  }

  ChannelHandler bytes() {
    return new Bytes();
  }

  /**
   * The deadline of the HTTP/1.1 handlers in {@code pipeline} (those of {@link #bytes()} named
   * {@code name}), or null: read when a connection turns into HTTP/2.
   */
  static HeadDeadline in(ChannelPipeline pipeline, String name) {
    return pipeline.get(name) instanceof Bytes b ? b.deadline() : null;
  }

  Duration timeout() {
    return Duration.ofNanos(timeoutNanos);
  }

  /** How long the head in progress has taken so far (zero if none). */
  Duration spent() {
    return inHead
        ? Duration.ofNanos(Math.max(0, ticker.nanoTime() - (deadlineNanos - timeoutNanos)))
        : Duration.ZERO;
  }

  private final class Bytes extends ChannelInboundHandlerAdapter {
    HeadDeadline deadline() {
      return HeadDeadline.this;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
      ticker = ctx.executor().ticker();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
      if (!inHead && !inBody && msg instanceof ByteBuf b && b.isReadable()) {
        inHead = true;
        // No timer per request (a schedule and a cancel on the hot path): the deadline moves,
        // and one pending timer per connection catches up with it when it fires.
        deadlineNanos = ticker.nanoTime() + timeoutNanos;
        if (timer == null) {
          arm(ctx, timeoutNanos);
        }
      }
      super.channelRead(ctx, msg);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
      cancel();
      super.channelInactive(ctx);
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
      cancel(); // the connection turned into HTTP/2 (which has a deadline of its own)
    }
  }

  ChannelHandler heads() {
    return new ChannelInboundHandlerAdapter() {
      @Override
      public void handlerAdded(ChannelHandlerContext ctx) {
        headsContext = ctx;
      }

      @Override
      public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
        if (msg instanceof HttpRequest) {
          inHead = false;
          inBody = true;
        }
        if (msg instanceof LastHttpContent) {
          inBody = false;
        }
        super.channelRead(ctx, msg);
      }
    };
  }

  private void arm(ChannelHandlerContext ctx, long delayNanos) {
    timer = ctx.executor().schedule(() -> expire(ctx), delayNanos, TimeUnit.NANOSECONDS);
  }

  private void expire(ChannelHandlerContext ctx) {
    timer = null;
    if (!inHead || !ctx.channel().isActive()) {
      return; // no head in progress: the next head's first byte arms a timer again
    }
    long left = deadlineNanos - ticker.nanoTime();
    if (left > 0) {
      arm(ctx, left); // a later head started since this timer was set
      return;
    }
    if (ctx.channel().config().isAutoRead() && headsContext != null) {
      headsContext.fireUserEventTriggered(EXPIRED);
    }
    if (ctx.channel().isActive()) {
      deadlineNanos = ticker.nanoTime() + timeoutNanos;
      arm(ctx, timeoutNanos); // not answered (busy, or reading paused): look again one period later
    }
  }

  private void cancel() {
    if (timer != null) {
      timer.cancel(false);
      timer = null;
    }
  }
}
