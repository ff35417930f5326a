package dev.locallambdas.transport;

import dev.locallambdas.exchange.Request;
import dev.locallambdas.exchange.ResponseSink;
import dev.locallambdas.transport.TransportException.Kind;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.UserPrincipal;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.logging.Level;
import java.util.logging.Logger;
import jdk.net.ExtendedSocketOptions;

/**
 * A pipe instance's endpoint: a listening Unix socket until the child has connected and said HELLO,
 * then the {@link PipeConnection}. The socket file is removed as soon as the child is in, so nobody
 * else can connect later.
 */
final class PipeEndpoint implements Endpoint {
  private static final Logger LOG = Logger.getLogger("dev.locallambdas.transport.pipe");

  /** How often the start-up wait looks at the process, besides being woken by its exit. */
  private static final long LIVENESS_CHECK_NANOS = TimeUnit.MILLISECONDS.toNanos(50);

  private final EndpointContext context;
  private final Path socketPath;
  private final ServerSocketChannel server;
  private final LongSupplier nanoTime;
  private final Object lock = new Object();
  private volatile PipeConnection connection;
  private boolean closed;

  private PipeEndpoint(
      EndpointContext context, Path socketPath, ServerSocketChannel server, LongSupplier nanoTime) {
    this.context = context;
    this.socketPath = socketPath;
    this.server = server;
    this.nanoTime = nanoTime;
  }

  static PipeEndpoint listen(EndpointContext context, LongSupplier nanoTime) throws IOException {
    Path path =
        context
            .runDirectory()
            .resolve(context.function().id() + "-" + context.instanceNumber() + ".sock");
    // A file left by an earlier gateway in the same run directory would make bind fail.
    Files.deleteIfExists(path);
    ServerSocketChannel server = ServerSocketChannel.open(java.net.StandardProtocolFamily.UNIX);
    try {
      server.bind(java.net.UnixDomainSocketAddress.of(path), 1);
      server.configureBlocking(false);
    } catch (IOException | RuntimeException e) {
      server.close();
      throw new IOException(
          context.label() + ": cannot listen on " + path + ": " + e.getMessage(), e);
    }
    return new PipeEndpoint(context, path, server, nanoTime);
  }

  Path socketPath() {
    return socketPath;
  }

  @Override
  public Map<String, String> environment() {
    return Map.of("PIPE_ADDRESS", socketPath.toString());
  }

  @Override
  public void awaitReady(Duration timeout, ProcessHandle process)
      throws IOException, InterruptedException {
    if (connection != null) {
      return;
    }
    long deadline = nanoTime.getAsLong() + timeout.toNanos();
    SocketChannel child = null;
    try {
      ByteBuffer in = ByteBuffer.allocate(FrameCodec.HEADER_SIZE + FrameCodec.MAX_HELLO_PAYLOAD);
      Frame hello;
      Selector selector = Selector.open();
      try {
        wakeOnExit(process, selector);
        server.register(selector, SelectionKey.OP_ACCEPT);
        while ((child = server.accept()) == null) {
          waitFor(selector, deadline, timeout, process, "connect", "connecting");
        }
        checkPeer(
            context.label(),
            child.getOption(ExtendedSocketOptions.SO_PEERCRED).user(),
            Files.getOwner(context.runDirectory()));
        child.configureBlocking(false);
        child.register(selector, SelectionKey.OP_READ);
        while ((hello = readHello(child, in)) == null) {
          waitFor(selector, deadline, timeout, process, "send HELLO", "sending HELLO");
        }
      } finally {
        // Closing the selector deregisters the channel, which must happen before it can block.
        selector.close();
      }
      child.configureBlocking(true);
      handshake(child, hello);
      in.flip();
      closeListener();
      PipeConnection c =
          PipeConnection.start(child, context.label(), context.function().concurrency(), in);
      synchronized (lock) {
        if (closed) {
          c.close();
          throw notReady("endpoint closed while the child was starting");
        }
        connection = c;
      }
      child = null;
      LOG.fine(() -> context.label() + ": pipe ready, pid " + process.pid());
    } catch (ClosedChannelException e) {
      throw new TransportException(
          Kind.NOT_READY, context.label() + ": endpoint closed while the child was starting", e);
    } finally {
      if (child != null) {
        closeQuietly(child);
      }
    }
  }

  private static void wakeOnExit(ProcessHandle process, Selector selector) {
    try {
      process.onExit().thenRun(selector::wakeup);
    } catch (IllegalStateException e) {
      // onExit is refused for the current process, which cannot exit under us anyway.
    }
  }

  private void waitFor(
      Selector selector,
      long deadline,
      Duration timeout,
      ProcessHandle process,
      String verb,
      String gerund)
      throws IOException, InterruptedException {
    if (Thread.interrupted()) {
      throw new InterruptedException(context.label() + ": interrupted while waiting for the child");
    }
    if (!process.isAlive()) {
      throw notReady("child exited before " + gerund);
    }
    long left = deadline - nanoTime.getAsLong();
    if (left <= 0) {
      throw notReady("child did not " + verb + " within " + format(timeout));
    }
    long wait = Math.min(left, LIVENESS_CHECK_NANOS);
    selector.select(Math.max(1, TimeUnit.NANOSECONDS.toMillis(wait)));
    selector.selectedKeys().clear();
  }

  /** Reads what is there; returns the HELLO once it is whole, null while more is needed. */
  private Frame readHello(SocketChannel child, ByteBuffer in) throws IOException {
    int r = child.read(in);
    in.flip();
    try {
      if (in.remaining() >= FrameCodec.HEADER_SIZE) {
        int type = FrameCodec.typeAt(in);
        int length;
        try {
          length = FrameCodec.checkHeader(in);
        } catch (FrameException e) {
          throw notReady("child sent an invalid first frame: " + e.getMessage());
        }
        if (type != FrameCodec.HELLO) {
          throw notReady("child sent " + FrameCodec.typeName(type) + " instead of HELLO");
        }
        if (length > FrameCodec.MAX_HELLO_PAYLOAD) {
          throw notReady("child sent a HELLO of " + length + " bytes");
        }
        Frame f = FrameCodec.decode(in);
        if (f != null) {
          return f;
        }
      }
      if (r < 0) {
        throw notReady("child closed the connection before sending HELLO");
      }
      return null;
    } catch (FrameException e) {
      throw notReady("child sent an invalid HELLO: " + e.getMessage());
    } finally {
      in.compact();
    }
  }

  private void handshake(SocketChannel child, Frame helloFrame) throws IOException {
    FrameCodec.Hello hello;
    try {
      hello = FrameCodec.decodeHello(helloFrame.payload());
    } catch (FrameException e) {
      throw notReady("child sent an invalid HELLO: " + e.getMessage());
    }
    ByteBuffer out = ByteBuffer.allocate(FrameCodec.HEADER_SIZE + 2 + 2 + 4 + 2 + 256);
    if (hello.minVersion() > FrameCodec.VERSION || hello.maxVersion() < FrameCodec.VERSION) {
      String reason =
          "child speaks protocol versions "
              + hello.minVersion()
              + "-"
              + hello.maxVersion()
              + ", gateway speaks "
              + FrameCodec.VERSION;
      FrameCodec.putReset(out, 0, reason);
      writeFully(child, out.flip());
      throw notReady(reason);
    }
    FrameCodec.putWelcome(
        out,
        FrameCodec.VERSION,
        context.function().concurrency(),
        FrameCodec.MAX_PAYLOAD,
        context.function().id());
    writeFully(child, out.flip());
    LOG.fine(() -> context.label() + ": HELLO from pid " + hello.pid() + " (" + hello.sdk() + ")");
  }

  private static void writeFully(SocketChannel ch, ByteBuffer b) throws IOException {
    while (b.hasRemaining()) {
      ch.write(b);
    }
  }

  /** Refuses a child running as another user than the gateway (read from SO_PEERCRED). */
  static void checkPeer(String label, UserPrincipal peer, UserPrincipal gateway)
      throws TransportException {
    if (!peer.equals(gateway)) {
      throw new TransportException(
          Kind.NOT_READY,
          label
              + ": child connected as user "
              + peer.getName()
              + ", gateway runs as "
              + gateway.getName());
    }
  }

  private TransportException notReady(String message) {
    return new TransportException(Kind.NOT_READY, context.label() + ": " + message);
  }

  static String format(Duration d) {
    long ms = d.toMillis();
    return ms % 1000 == 0 ? ms / 1000 + "s" : ms + "ms";
  }

  @Override
  public void exchange(Request request, ResponseSink sink) throws IOException {
    PipeConnection c = connection;
    if (c == null) {
      throw new TransportException(Kind.NOT_DELIVERED, context.label() + ": pipe is not ready");
    }
    c.exchange(request, sink);
  }

  private void closeListener() {
    closeQuietly(server);
    try {
      Files.deleteIfExists(socketPath);
    } catch (IOException e) {
      LOG.log(Level.WARNING, context.label() + ": cannot remove " + socketPath, e);
    }
  }

  private static void closeQuietly(java.nio.channels.Channel c) {
    try {
      c.close();
    } catch (IOException e) {
      LOG.log(Level.FINE, "close failed", e);
    }
  }

  @Override
  public void close() {
    PipeConnection c;
    synchronized (lock) {
      if (closed) {
        return;
      }
      closed = true;
      c = connection;
    }
    closeListener();
    if (c != null) {
      c.close();
    }
  }
}
