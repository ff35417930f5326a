package dev.locallambdas.bench.frontdoor;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpServerKeepAliveHandler;

/**
 * Netty front door without HttpObjectAggregator (the lean variant): HttpServerCodec, the
 * keep-alive handler and {@link HelloHandler}, one event-loop thread per core.
 */
final class NettyServer implements AutoCloseable {
  enum Transport {
    EPOLL,
    NIO
  }

  private final EventLoopGroup group;
  private final Channel channel;

  private NettyServer(EventLoopGroup group, Channel channel) {
    this.group = group;
    this.channel = channel;
  }

  static NettyServer start(Transport transport, int port) throws InterruptedException {
    if (transport == Transport.EPOLL) {
      Epoll.ensureAvailability();
    }
    IoHandlerFactory ioHandler =
        transport == Transport.EPOLL ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
    Class<? extends ServerChannel> channelType =
        transport == Transport.EPOLL
            ? EpollServerSocketChannel.class
            : NioServerSocketChannel.class;
    int threads = Runtime.getRuntime().availableProcessors();
    // One group accepts and serves: the accept rate is tiny next to the request rate.
    EventLoopGroup group = new MultiThreadIoEventLoopGroup(threads, ioHandler);
    // The same strict settings the gateway is meant to ship with, so the measured cost includes them.
    HttpDecoderConfig decoder =
        new HttpDecoderConfig()
            .setMaxInitialLineLength(8192)
            .setMaxHeaderSize(16384)
            .setValidateHeaders(true)
            .setStrictLineParsing(true)
            .setUseRfc9112TransferEncoding(true)
            .setAllowDuplicateContentLengths(false);
    HelloHandler hello = new HelloHandler();
    try {
      Channel channel =
          new ServerBootstrap()
              .group(group)
              .channel(channelType)
              .option(ChannelOption.SO_BACKLOG, 1024)
              .childOption(ChannelOption.TCP_NODELAY, true)
              .childHandler(
                  new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                      ch.pipeline()
                          .addLast("codec", new HttpServerCodec(decoder))
                          .addLast("keepAlive", new HttpServerKeepAliveHandler())
                          .addLast("hello", hello);
                    }
                  })
              .bind(Hello.HOST, port)
              .sync()
              .channel();
      return new NettyServer(group, channel);
    } catch (RuntimeException | InterruptedException e) {
      group.shutdownGracefully();
      throw e;
    }
  }

  @Override
  public void close() {
    channel.close().syncUninterruptibly();
    group.shutdownGracefully().syncUninterruptibly();
  }
}
