package dev.locallambdas.loops;

import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioDomainSocketChannel;
import io.netty.channel.socket.nio.NioServerDomainSocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * The gateway's event loops, shared by the front door and every connection to a function: by
 * default one loop per two cores (native epoll where available, NIO otherwise). A client connection
 * and the function connection serving it live on the same loop whenever possible, so a request
 * whose body fits in memory is read, forwarded, answered and written by one thread.
 */
public final class EventLoops implements AutoCloseable {
  private final EventLoopGroup group;
  private final boolean epoll;
  private final int size;

  private EventLoops(EventLoopGroup group, boolean epoll, int size) {
    this.group = group;
    this.epoll = epoll;
    this.size = size;
  }

  /** {@link #defaultSize()} loops. */
  public static EventLoops start() {
    return start(defaultSize());
  }

  /**
   * Half the available cores (at least one), or {@code -Dlocallambdas.loops=N}. The functions
   * behind the gateway need the other half: on two cores, one loop served a warm Java pipe function
   * at 1.3x the rate of two loops, at a third less gateway CPU per request (ADR 0010), because two
   * loops compete with the children for the same cores and wake each other across them.
   */
  public static int defaultSize() {
    int cores = Math.max(1, Runtime.getRuntime().availableProcessors());
    return Integer.getInteger("locallambdas.loops", Math.max(1, cores / 2));
  }

  public static EventLoops start(int threads) {
    boolean epoll = Epoll.isAvailable();
    IoHandlerFactory io = epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
    EventLoopGroup group =
        new MultiThreadIoEventLoopGroup(threads, new DefaultThreadFactory("loop", true), io);
    return new EventLoops(group, epoll, threads);
  }

  public EventLoopGroup group() {
    return group;
  }

  /** The next loop, round robin. */
  public EventLoop next() {
    return group.next();
  }

  public int size() {
    return size;
  }

  public boolean nativeTransport() {
    return epoll;
  }

  public Class<? extends ServerChannel> serverSocketChannel() {
    return epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
  }

  public Class<? extends Channel> socketChannel() {
    return epoll ? EpollSocketChannel.class : NioSocketChannel.class;
  }

  public Class<? extends ServerChannel> serverDomainSocketChannel() {
    return epoll ? EpollServerDomainSocketChannel.class : NioServerDomainSocketChannel.class;
  }

  public Class<? extends Channel> domainSocketChannel() {
    return epoll ? EpollDomainSocketChannel.class : NioDomainSocketChannel.class;
  }

  /** The address of a Unix domain socket file, in the form this transport's channels take. */
  public SocketAddress domainAddress(Path file) {
    return epoll
        ? new DomainSocketAddress(file.toAbsolutePath().toString())
        : UnixDomainSocketAddress.of(file.toAbsolutePath());
  }

  /** Stops the loops at once (open channels are closed). */
  @Override
  public void close() {
    group.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS).syncUninterruptibly();
  }
}
