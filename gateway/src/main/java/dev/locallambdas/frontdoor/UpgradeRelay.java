package dev.locallambdas.frontdoor;

import dev.locallambdas.exchange.Headers;
import dev.locallambdas.exchange.Problem;
import dev.locallambdas.function.FunctionPool;
import dev.locallambdas.function.Lease;
import dev.locallambdas.function.Waiter;
import dev.locallambdas.manifest.FunctionSpec;
import dev.locallambdas.transport.Outcome;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * A protocol upgrade (a WebSocket) passed through to an {@code http} function that allows it with
 * {@code <upgrade>} (docs/websockets.md): the request head goes to the child on a connection of its
 * own, and from then on the two connections are relayed byte for byte, the child's 101 included.
 * Both channels live on the client's loop; each side is read only after what it last read has been
 * written to the other (backpressure both ways); neither side sending nor receiving for the
 * function's idle timeout closes both; either side closing closes the other once its bytes are out.
 * The instance's slot is held for as long as the relay lasts.
 */
final class UpgradeRelay implements Waiter {
  private final ChannelHandlerContext client;
  private final FunctionPool pool;
  private final ByteBuf head;
  private final AccessLog.Entry log;
  private final Consumer<Problem> refuse;

  private UpgradeRelay(
      ChannelHandlerContext client,
      FunctionPool pool,
      ByteBuf head,
      AccessLog.Entry log,
      Consumer<Problem> refuse) {
    this.client = client;
    this.pool = pool;
    this.head = head;
    this.log = log;
    this.refuse = refuse;
  }

  /**
   * The protocol a request asks to switch to (lower case), or null when it asks for none: both an
   * {@code Upgrade} field and the {@code upgrade} token in {@code Connection} (RFC 9110 section
   * 7.8). {@code h2c} is the front door's own business and never relayed.
   */
  static String requested(HttpRequest req) {
    String upgrade = req.headers().get(HttpHeaderNames.UPGRADE);
    if (upgrade == null || upgrade.isBlank()) {
      return null;
    }
    boolean connection = false;
    for (String c : req.headers().getAll(HttpHeaderNames.CONNECTION)) {
      for (String token : c.split(",", -1)) {
        connection |= token.strip().equalsIgnoreCase("upgrade");
      }
    }
    // The first protocol offered: "websocket", "websocket/13"
    String first = upgrade.split(",", -1)[0].strip();
    int slash = first.indexOf('/');
    String name = (slash < 0 ? first : first.substring(0, slash)).toLowerCase(Locale.ROOT);
    return connection && !name.equals("h2c") ? name : null;
  }

  /** Why an upgrade to {@code protocol} is refused for {@code spec}, or null when it is allowed. */
  static Problem refusal(FunctionSpec spec, String protocol, boolean http1, boolean hasBody) {
    if (!http1) {
      return Problem.of(400, "upgrade-not-supported", "Bad Request")
          .detail(
              "protocol upgrades (Upgrade: "
                  + protocol
                  + ") need an HTTP/1.1 connection; HTTP/2 has none: connect with HTTP/1.1")
          .build();
    }
    if (spec.upgrades().contains(protocol)) {
      return hasBody
          ? Problem.of(400, "bad-request", "Bad Request")
              .detail("an upgrade request (Upgrade: " + protocol + ") must not have a body")
              .build()
          : null;
    }
    String fix =
        spec.protocol() == dev.locallambdas.manifest.Protocol.HTTP
            ? "add <upgrade>" + protocol + "</upgrade> to function '" + spec.id() + "'"
            : "function '"
                + spec.id()
                + "' uses protocol "
                + spec.protocol().manifestName()
                + ", which cannot carry it: only http functions (a child with its own server) can";
    return Problem.of(501, "upgrade-not-enabled", "Not Implemented")
        .detail("function '" + spec.id() + "' does not accept Upgrade: " + protocol + "; " + fix)
        .build();
  }

  /** Starts relaying: waits for a slot on the function, then connects and switches. */
  static void start(
      ChannelHandlerContext client,
      FunctionPool pool,
      HttpRequest req,
      String target,
      Headers headers,
      AccessLog.Entry log,
      Consumer<Problem> refuse) {
    StringBuilder sb = new StringBuilder(512);
    sb.append(req.method().name()).append(' ').append(target).append(" HTTP/1.1\r\n");
    for (int i = 0; i < headers.size(); i++) {
      sb.append(headers.name(i)).append(": ").append(headers.value(i)).append("\r\n");
    }
    // The two hop-by-hop fields this hop exists for, which the function's copy lacks.
    sb.append("connection: upgrade\r\n");
    sb.append("upgrade: ").append(req.headers().get(HttpHeaderNames.UPGRADE)).append("\r\n\r\n");
    ByteBuf head = Unpooled.copiedBuffer(sb, StandardCharsets.ISO_8859_1);
    new UpgradeRelay(client, pool, head, log, refuse).acquire();
  }

  private void acquire() {
    pool.acquire(this);
  }

  @Override
  public EventLoop loop() {
    return client.channel().eventLoop();
  }

  @Override
  public void granted(Lease lease) {
    if (loop().inEventLoop()) {
      connect(lease);
    } else {
      loop().execute(() -> connect(lease));
    }
  }

  @Override
  public void refused(Problem problem) {
    loop()
        .execute(
            () -> {
              head.release();
              refuse.accept(problem);
            });
  }

  private void connect(Lease lease) {
    if (!client.channel().isActive()) {
      head.release();
      lease.returnUnused();
      return;
    }
    log.granted();
    log.instance(lease.label(), lease.cold());
    Side childSide = new Side(client.channel(), log);
    ChannelFuture connecting = lease.endpoint().tunnel(loop(), childSide);
    if (connecting == null) { // refusal() lets only http functions through: not reached
      head.release();
      lease.release(Outcome.FAILED);
      refuse.accept(Problem.of(501, "upgrade-not-enabled", "Not Implemented").build());
      return;
    }
    connecting.addListener(
        (ChannelFutureListener)
            f -> {
              if (!f.isSuccess()) {
                head.release();
                lease.release(Outcome.BROKEN);
                refuse.accept(
                    Problem.of(502, "bad-gateway", "Bad Gateway")
                        .detail(
                            lease.label()
                                + " did not accept a connection for the upgrade: "
                                + f.cause().getMessage())
                        .build());
                return;
              }
              Channel child = f.channel();
              child.closeFuture().addListener(c -> lease.release(Outcome.OK));
              if (!client.channel().isActive()) { // the client left while the child connected
                head.release();
                child.close();
                return;
              }
              switchClient(child);
              child.writeAndFlush(head).addListener(w -> child.read());
            });
  }

  /** The client's connection stops being HTTP: everything but the relay leaves its pipeline. */
  private void switchClient(Channel child) {
    ChannelPipeline p = client.pipeline();
    Duration idle = pool.spec().idleTimeout();
    long idleMillis = idle == null || idle.isZero() || idle.isNegative() ? 0 : idle.toMillis();
    Side clientSide = new Side(child, null);
    p.addLast("relay", clientSide);
    for (String name : new String[] {"gateway", "encoder", "head-end", "decoder", "head-start"}) {
      if (p.get(name) != null) {
        p.remove(name); // the decoder hands on any bytes it held to the relay
      }
    }
    if (p.get("idle") != null) {
      p.replace("idle", "idle", new IdleStateHandler(0, 0, idleMillis, TimeUnit.MILLISECONDS));
    }
    if (idleMillis > 0) {
      child.pipeline().addFirst(new IdleStateHandler(0, 0, idleMillis, TimeUnit.MILLISECONDS));
    }
    client.channel().read();
  }

  /** One direction: what this channel reads goes to {@code to}; reads again once written. */
  private static final class Side extends ChannelInboundHandlerAdapter {
    private final Channel to;
    private final AccessLog.Entry log; // on the child's side: logs the child's status line
    private boolean first = true;

    Side(Channel to, AccessLog.Entry log) {
      this.to = to;
      this.log = log;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      if (first && log != null && msg instanceof ByteBuf b) {
        first = false;
        log.status(statusOf(b));
        log.done(0);
      }
      if (!to.isActive()) {
        ReferenceCountUtil.release(msg);
        ctx.close();
        return;
      }
      to.writeAndFlush(msg)
          .addListener(
              (ChannelFutureListener)
                  f -> {
                    if (f.isSuccess()) {
                      ctx.channel().read();
                    } else {
                      ctx.channel().close();
                    }
                  });
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      if (first && log != null) {
        first = false;
        log.status(502);
        log.done(0);
      }
      closeWhenFlushed(to);
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
      if (evt instanceof IdleStateEvent) {
        ctx.channel().close();
        return;
      }
      super.userEventTriggered(ctx, evt);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      ctx.channel().close(); // a reset or a broken pipe: the other side follows in channelInactive
    }

    private static void closeWhenFlushed(Channel c) {
      if (c.isActive()) {
        c.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
      }
    }

    /** The status code of an HTTP/1.x status line at the start of {@code b}, else 502. */
    private static int statusOf(ByteBuf b) {
      if (b.readableBytes() < 12) {
        return 502;
      }
      String line = b.toString(b.readerIndex(), 12, StandardCharsets.ISO_8859_1);
      if (!line.startsWith("HTTP/1.")) {
        return 502;
      }
      try {
        return Integer.parseInt(line.substring(9, 12));
      } catch (NumberFormatException e) {
        return 502;
      }
    }
  }
}
