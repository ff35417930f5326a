package dev.locallambdas.transport.http;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpRequestEncoder;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;

/**
 * One keep-alive connection to a child's server, on one event loop: the last handler of its
 * pipeline (after Netty's request encoder and the {@link ResponseDecoder}). It carries at most one
 * {@link Exchange} at a time, hands it what the child sends, and reads only when that exchange
 * wants more (AUTO_READ is off), or, while idle in its {@link LoopPool}, to notice the child
 * closing it.
 */
final class ChildConnection extends ChannelInboundHandlerAdapter
    implements ChannelFutureListener, Runnable {
  private final LoopPool pool;
  private final ResponseDecoder decoder = new ResponseDecoder();
  private Channel channel;
  private ChannelHandlerContext ctx;
  private Exchange exchange;
  private boolean readRequested;
  private boolean unflushed;
  long idleSince; // for the pool

  ChildConnection(LoopPool pool, Exchange first) {
    this.pool = pool;
    this.exchange = first;
  }

  /** Installs the codec and this handler on a new channel's pipeline. */
  void install(ChannelPipeline p) {
    p.addLast("encoder", new HttpRequestEncoder());
    p.addLast("decoder", decoder);
    p.addLast("connection", this);
  }

  /** The channel being connected; when it closes, the pool forgets this connection. */
  void bind(Channel channel) {
    this.channel = channel;
    channel.closeFuture().addListener(f -> pool.removed(this));
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
  }

  Channel channel() {
    return channel;
  }

  ResponseDecoder decoder() {
    return decoder;
  }

  boolean isActive() {
    return channel.isActive();
  }

  boolean isWritable() {
    return channel.isWritable();
  }

  /** {@code x} sends its request on this connection; the next bytes from the child answer it. */
  void attach(Exchange x) {
    exchange = x;
    decoder.expect(x.headRequest());
  }

  /**
   * Writes the request head. Without a body it is flushed at once (one flush per request);
   * otherwise the flush waits for the end of this turn of the loop, so that body pieces that arrive
   * meanwhile leave in the same write.
   */
  ChannelPromise writeHead(HttpRequest head, boolean flush, ChannelFutureListener done) {
    ChannelPromise written = ctx.newPromise();
    written.addListener(done);
    ctx.write(head, written);
    if (flush) {
      ctx.flush();
    } else if (!unflushed) {
      unflushed = true;
      ctx.executor().execute(this);
    }
    return written;
  }

  /** Writes a piece of the request body; a failure closes the connection (exceptionCaught). */
  void writeBody(HttpContent piece, boolean flush) {
    ctx.write(piece, ctx.voidPromise());
    if (flush) {
      unflushed = false;
      ctx.flush();
    } else {
      unflushed = true;
    }
  }

  /** The deferred flush of a request head (see {@link #writeHead}). */
  @Override
  public void run() {
    if (unflushed) {
      unflushed = false;
      ctx.flush();
    }
  }

  /** Asks for the next read unless one is already asked for. */
  void read() {
    if (!readRequested && ctx != null) {
      readRequested = true;
      ctx.read();
    }
  }

  /**
   * The exchange is over: back to the pool when the child agreed to keep the connection and sent
   * nothing more than the answer, closed otherwise.
   */
  void finish(boolean reusable) {
    exchange = null;
    decoder.idle();
    if (reusable && decoder.clean()) {
      pool.recycle(this);
    } else {
      close();
    }
  }

  /** The exchange gave up (cancelled or failed): the connection cannot be trusted any more. */
  void abort() {
    exchange = null;
    decoder.idle();
    close();
  }

  /** The endpoint is closing. */
  void shutdown() {
    Exchange x = exchange;
    if (x != null) {
      x.endpointClosed(); // aborts this connection through the exchange
    }
    close();
  }

  void close() {
    channel.close();
  }

  /** The connect finished. */
  @Override
  public void operationComplete(ChannelFuture future) {
    Exchange x = exchange;
    if (x == null) {
      close(); // the call gave up while connecting
    } else if (future.isSuccess()) {
      x.start(this, false);
    } else {
      exchange = null;
      x.connectFailed(future.cause());
    }
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    Exchange x = exchange;
    if (x == null) {
      // Leftover of an answer, or a response nobody asked for: not to be mistaken for the next.
      ReferenceCountUtil.release(msg);
      close();
      return;
    }
    x.onResponse((HttpObject) msg);
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    readRequested = false;
    Exchange x = exchange;
    if (x == null ? channel.isActive() : x.wantsRead()) {
      read();
    }
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    Exchange x = exchange;
    if (x != null) {
      x.writabilityChanged(channel.isWritable());
    }
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    Exchange x = exchange;
    if (x != null) {
      x.connectionLost(cause);
    }
    close();
    if (!(cause instanceof IOException)) {
      ctx.fireExceptionCaught(cause); // a bug, not the child: let Netty report it
    }
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    Exchange x = exchange;
    if (x != null) {
      x.connectionLost(null);
    }
  }
}
