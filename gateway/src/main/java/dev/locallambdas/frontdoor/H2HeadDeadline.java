package dev.locallambdas.frontdoor;

import dev.locallambdas.metrics.GatewayMetrics;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http2.DefaultHttp2GoAwayFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;

/**
 * The header timeout of an HTTP/2 connection (docs/http2.md), the counterpart of {@link
 * HeadDeadline}: once a header block has started (the first byte of a HEADERS or PUSH_PROMISE
 * frame), the frame that carries END_HEADERS must have arrived whole within the header timeout,
 * however steadily the client trickles CONTINUATION frames or bytes. The connection preface and the
 * client's first frame (its SETTINGS) are bounded the same way, from their first byte. Otherwise
 * the connection ends with GOAWAY ENHANCE_YOUR_CALM and is closed: the client broke no rule of RFC
 * 9113, it is holding the connection open at the gateway's expense, as with the other flood limits
 * of {@link Http2Front}.
 *
 * <p>It sits before the frame codec and reads only the 9-byte frame headers as the bytes pass,
 * without copying or consuming them (a frame header may be split across reads). DATA frames and
 * every other frame never start the clock. A header block that starts and ends within one read does
 * not read the clock at all; one that spans reads sets a deadline, and one timer per connection,
 * armed when first needed, catches up with the moving deadline when it fires (no schedule and
 * cancel per request). Time is the event loop's, which tests advance.
 */
final class H2HeadDeadline extends ChannelInboundHandlerAdapter {
  private static final Logger LOG = Logger.getLogger("dev.locallambdas.frontdoor");

  /** Its name in the pipeline, just before the HTTP/2 codec. */
  static final String NAME = "h2-head";

  private static final int PREFACE_LENGTH = 24; // "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
  private static final int FRAME_HEADER_LENGTH = 9;
  private static final int TYPE_OFFSET = 3;
  private static final int FLAGS_OFFSET = 4;
  private static final int HEADERS = 0x1;
  private static final int PUSH_PROMISE = 0x5; // a client must not send it; timed all the same
  private static final int CONTINUATION = 0x9;
  private static final int END_HEADERS = 0x4;

  /** Where the connection is with respect to header blocks. */
  enum State {
    /** The preface and the client's first frame: timed from their first byte. */
    OPENING,
    /** Between header blocks: not timed. */
    OUTSIDE,
    /** Inside a header block: timed. */
    INSIDE,
    /** The deadline passed: GOAWAY sent, the connection closing; input is dropped. */
    EXPIRED
  }

  /** Where the reader is in the byte stream. */
  private enum Position {
    PREFACE,
    FRAME_HEADER,
    PAYLOAD
  }

  private final long timeoutNanos;
  private final long spentNanos;
  private final GatewayMetrics metrics;

  private State state = State.OPENING;
  private Position at = Position.PREFACE;

  /** Bytes left of the preface or of the current frame's payload. */
  private int left = PREFACE_LENGTH;

  /** Bytes of the current frame header seen so far, and its fields as far as seen. */
  private int headerSeen;

  private int length;
  private int type;
  private int flags;

  /** The current frame ends the header block (or the opening) when its payload is in. */
  private boolean endsBlock;

  /** When the first byte of a frame header split across reads arrived (valid if set). */
  private boolean headerStartSet;

  private long headerStartNanos;

  /** When the current block started, if known before the end of the read (valid if set). */
  private boolean blockStartSet;

  private long blockStartNanos;

  /** The deadline runs (it is set) for the current block or the opening. */
  private boolean timing;

  private long deadlineNanos;
  private ScheduledFuture<?> timer;

  /**
   * {@code spent}: time the connection's first bytes already took before this handler saw them (a
   * prior-knowledge preface the HTTP/1.1 head deadline was timing); it counts against the opening.
   */
  H2HeadDeadline(Duration timeout, Duration spent, GatewayMetrics metrics) {
    if (timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException("header timeout is " + timeout + ": it must be positive");
    }
    this.timeoutNanos = timeout.toNanos();
    this.spentNanos = Math.max(0, spent.toNanos());
    this.metrics = metrics;
  }

  State state() {
    return state;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (state == State.EXPIRED) {
      ReferenceCountUtil.release(msg); // the connection is closing: nothing more is decoded
      return;
    }
    if (msg instanceof ByteBuf in && in.isReadable()) {
      scan(in, in.readerIndex(), in.writerIndex());
      afterRead(ctx);
    }
    ctx.fireChannelRead(msg);
  }

  /**
   * Follows the frame headers in {@code in} from {@code i} to {@code end}, not moving its index.
   */
  private void scan(ByteBuf in, int i, int end) {
    while (i < end) {
      if (at != Position.FRAME_HEADER) {
        int n = Math.min(left, end - i);
        i += n;
        left -= n;
        if (left == 0) {
          if (at == Position.PAYLOAD) {
            frameEnd();
          }
          at = Position.FRAME_HEADER;
        }
      } else if (headerSeen == 0 && end - i >= FRAME_HEADER_LENGTH) {
        // The usual case: the whole frame header is in this read.
        length = in.getUnsignedMedium(i);
        type = in.getUnsignedByte(i + TYPE_OFFSET);
        flags = in.getUnsignedByte(i + FLAGS_OFFSET);
        i += FRAME_HEADER_LENGTH;
        typeSeen();
        frameHeaderEnd();
      } else {
        int b = in.getUnsignedByte(i++);
        if (headerSeen < TYPE_OFFSET) {
          length = headerSeen == 0 ? b : (length << 8) | b;
        } else if (headerSeen == TYPE_OFFSET) {
          type = b;
          typeSeen();
        } else if (headerSeen == FLAGS_OFFSET) {
          flags = b;
        }
        if (++headerSeen == FRAME_HEADER_LENGTH) {
          frameHeaderEnd();
        }
      }
    }
  }

  /** The frame's type is known: a HEADERS or PUSH_PROMISE frame starts a header block. */
  private void typeSeen() {
    if (state == State.OUTSIDE && (type == HEADERS || type == PUSH_PROMISE)) {
      state = State.INSIDE;
      blockStartSet = headerStartSet; // from the frame's first byte, if it came in an earlier read
      blockStartNanos = headerStartNanos;
    }
  }

  private void frameHeaderEnd() {
    headerSeen = 0;
    headerStartSet = false;
    endsBlock =
        switch (state) {
          case OPENING -> true; // the client's first frame (its SETTINGS) ends the opening
          case INSIDE ->
              (flags & END_HEADERS) != 0
                  && (type == HEADERS || type == PUSH_PROMISE || type == CONTINUATION);
          case OUTSIDE, EXPIRED -> false;
        };
    if (length == 0) {
      frameEnd();
    } else {
      at = Position.PAYLOAD;
      left = length;
    }
  }

  /** The current frame has arrived whole. */
  private void frameEnd() {
    if (endsBlock) {
      endsBlock = false;
      state = State.OUTSIDE;
      timing = false;
      blockStartSet = false;
    }
  }

  /** Sets the deadline of a block (or the opening) left unfinished by this read. */
  private void afterRead(ChannelHandlerContext ctx) {
    if (state == State.INSIDE || state == State.OPENING) {
      if (!timing) {
        timing = true;
        long now = now(ctx);
        if (state == State.OPENING) {
          deadlineNanos = now - spentNanos + timeoutNanos;
        } else {
          deadlineNanos = (blockStartSet ? blockStartNanos : now) + timeoutNanos;
        }
        if (timer == null) {
          arm(ctx, deadlineNanos - now);
        }
      }
    } else if (headerSeen > 0 && !headerStartSet) {
      // Part of a frame header whose type is not known yet: if it is a HEADERS frame, its block
      // started now.
      headerStartSet = true;
      headerStartNanos = now(ctx);
    }
  }

  private static long now(ChannelHandlerContext ctx) {
    return ctx.executor().ticker().nanoTime();
  }

  private void arm(ChannelHandlerContext ctx, long delayNanos) {
    timer =
        ctx.executor().schedule(() -> expire(ctx), Math.max(0, delayNanos), TimeUnit.NANOSECONDS);
  }

  private void expire(ChannelHandlerContext ctx) {
    timer = null;
    if (!timing || state == State.EXPIRED || !ctx.channel().isActive()) {
      return; // no block open: the next one that spans reads arms a timer again
    }
    long now = now(ctx);
    if (deadlineNanos - now > 0) {
      arm(ctx, deadlineNanos - now); // a later block started since this timer was set
      return;
    }
    if (!ctx.channel().config().isAutoRead()) {
      // The gateway has stopped reading: the block cannot complete through any fault of the
      // client's. Look again one period later.
      deadlineNanos = now + timeoutNanos;
      arm(ctx, timeoutNanos);
      return;
    }
    String why =
        (state == State.OPENING
                ? "the connection preface and first SETTINGS frame"
                : "the header block")
            + " did not arrive completely within the header timeout ("
            + Duration.ofNanos(timeoutNanos).toMillis()
            + " ms): send each header block without pausing";
    state = State.EXPIRED;
    timing = false;
    metrics.rejected(408, "header-timeout");
    LOG.fine(() -> "HTTP/2 connection from " + ctx.channel().remoteAddress() + ": " + why);
    // Through the whole pipeline, so the codec writes it; then closed, whatever the codec does.
    // A client that does not read cannot hold the connection open: the close comes at the latest
    // after the linger time.
    ctx.channel()
        .writeAndFlush(
            new DefaultHttp2GoAwayFrame(
                Http2Error.ENHANCE_YOUR_CALM,
                Unpooled.copiedBuffer(why, StandardCharsets.US_ASCII)))
        .addListener(f -> ctx.close());
    ctx.executor()
        .schedule(() -> ctx.close(), ConnectionHandler.LINGER_MILLIS, TimeUnit.MILLISECONDS);
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    cancel();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    cancel();
    ctx.fireChannelInactive();
  }

  private void cancel() {
    if (timer != null) {
      timer.cancel(false);
      timer = null;
    }
  }
}
