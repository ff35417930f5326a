package dev.locallambdas.transport.pipe;

import dev.locallambdas.manifest.FunctionSpec;
import dev.locallambdas.transport.TransportException;
import dev.locallambdas.transport.TransportException.Kind;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.unix.PeerCredentials;
import io.netty.handler.codec.DecoderException;
import java.io.IOException;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * The first moments of a pipe connection: checks who connected (SO_PEERCRED), waits for HELLO,
 * chooses the version (1.1 when the child offers it), answers WELCOME and hands the channel over to
 * a {@link PipeConnection}. The outcome completes {@code ready}: the connection, or a NOT_READY
 * failure saying what the child did wrong.
 */
final class PipeHandshake extends ChannelInboundHandlerAdapter {
  private static final java.util.logging.Logger LOG =
      java.util.logging.Logger.getLogger("dev.locallambdas.transport.pipe");

  /** The initial flow-control window the gateway announces (protocol 1.1). */
  static final int WINDOW = 256 * 1024;

  private final String label;
  private final FunctionSpec function;
  private final int gatewayUid;
  private final CompletableFuture<PipeConnection> ready;

  /** Hands over the instance's shared-memory segment (once; null without one). */
  private final Supplier<SharedSegment> segment;

  private final int threshold;

  /** {@code gatewayUid} < 0 skips the peer check (a transport without SO_PEERCRED). */
  PipeHandshake(
      String label,
      FunctionSpec function,
      int gatewayUid,
      CompletableFuture<PipeConnection> ready) {
    this(label, function, gatewayUid, ready, () -> null, 0);
  }

  /**
   * With a segment to offer: a child that asks for shared memory gets it (WELCOME names the path
   * and {@code threshold}); otherwise the segment is released at once.
   */
  PipeHandshake(
      String label,
      FunctionSpec function,
      int gatewayUid,
      CompletableFuture<PipeConnection> ready,
      Supplier<SharedSegment> segment,
      int threshold) {
    this.label = label;
    this.function = function;
    this.gatewayUid = gatewayUid;
    this.ready = ready;
    this.segment = segment;
    this.threshold = threshold;
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) throws Exception {
    if (gatewayUid >= 0 && ctx.channel() instanceof EpollDomainSocketChannel ch) {
      PeerCredentials peer = ch.peerCredentials();
      if (peer.uid() != gatewayUid) {
        refuse(
            ctx,
            "child connected as user id " + peer.uid() + ", gateway runs as user id " + gatewayUid);
        return;
      }
    }
    super.channelActive(ctx);
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (!(msg instanceof Frame frame)) {
      refuse(ctx, "child closed the connection in the middle of its HELLO");
      return;
    }
    FrameCodec.Hello hello;
    try {
      hello = FrameCodec.decodeHello(frame.payload().nioBuffer());
    } catch (FrameException e) {
      refuse(ctx, "child sent an invalid HELLO: " + e.getMessage());
      return;
    } finally {
      frame.release();
    }
    int version = choose(hello);
    if (version == 0) {
      String reason =
          "child speaks protocol versions "
              + hello.minVersion()
              + "-"
              + hello.maxVersion()
              + ", gateway speaks "
              + FrameCodec.VERSION_1
              + "-"
              + FrameCodec.VERSION_2;
      ByteBuf reset =
          PipeConnection.encode(ctx.alloc(), out -> FrameCodec.putReset(out, 0, reason));
      ctx.writeAndFlush(reset).addListener(ChannelFutureListener.CLOSE);
      fail(reason);
      return;
    }
    SharedSegment offered = segment.get();
    ShmBodies shm = null;
    if (offered != null) {
      if (version >= FrameCodec.VERSION_2 && (hello.capabilities() & FrameCodec.CAP_SHM) != 0) {
        shm = new ShmBodies(label, offered, threshold);
      } else {
        offered.release(); // the child cannot use it
      }
    }
    ShmBodies accepted = shm;
    ByteBuf welcome =
        PipeConnection.encode(
            ctx.alloc(),
            out -> {
              if (version >= FrameCodec.VERSION_2) {
                FrameCodec.putWelcome(
                    out,
                    version,
                    function.concurrency(),
                    FrameCodec.MAX_PAYLOAD,
                    function.id(),
                    WINDOW,
                    accepted != null ? FrameCodec.CAP_SHM : 0,
                    accepted != null ? offered.path() : null,
                    threshold);
              } else {
                FrameCodec.putWelcome(
                    out, version, function.concurrency(), FrameCodec.MAX_PAYLOAD, function.id());
              }
            });
    ctx.writeAndFlush(welcome);
    LOG.fine(
        () ->
            label
                + ": HELLO from pid "
                + hello.pid()
                + " ("
                + hello.sdk()
                + "), protocol "
                + (version >= FrameCodec.VERSION_2 ? "1.1" : "1.0")
                + (accepted != null ? " with shared memory" : ""));
    PipeConnection connection =
        new PipeConnection(label, function.concurrency(), version, WINDOW, ctx.channel(), shm);
    ctx.pipeline().replace(this, "connection", connection);
    if (!ready.complete(connection)) {
      connection.fail(
          new TransportException(Kind.CHILD_FAILED, label + ": endpoint closed while starting"));
    }
  }

  /** The highest version both speak, or 0. */
  static int choose(FrameCodec.Hello hello) {
    for (int v = FrameCodec.VERSION_2; v >= FrameCodec.VERSION_1; v--) {
      if (hello.minVersion() <= v && v <= hello.maxVersion()) {
        return v;
      }
    }
    return 0;
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    if (cause instanceof DecoderException d && d.getCause() instanceof FrameException fe) {
      String m = fe.getMessage();
      refuse(ctx, m.startsWith("child sent") ? m : "child sent an invalid first frame: " + m);
    } else if (cause instanceof IOException) {
      refuse(ctx, "connection failed before HELLO: " + cause.getMessage());
    } else {
      refuse(ctx, "handshake failed: " + cause);
    }
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    fail("child closed the connection before sending HELLO");
  }

  private void refuse(ChannelHandlerContext ctx, String reason) {
    fail(reason);
    ctx.close();
  }

  private void fail(String reason) {
    ready.completeExceptionally(new TransportException(Kind.NOT_READY, label + ": " + reason));
  }
}
