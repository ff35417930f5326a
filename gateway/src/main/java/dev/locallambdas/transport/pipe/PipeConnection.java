package dev.locallambdas.transport.pipe;

import dev.locallambdas.exchange.Request;
import dev.locallambdas.transport.Call;
import dev.locallambdas.transport.CallListener;
import dev.locallambdas.transport.Outcome;
import dev.locallambdas.transport.TransportException;
import dev.locallambdas.transport.TransportException.Kind;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.DecoderException;
import io.netty.util.collection.IntObjectHashMap;
import java.io.IOException;
import java.nio.BufferOverflowException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.concurrent.RejectedExecutionException;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The one connection to a pipe child after its handshake: a Netty handler on the instance's event
 * loop that multiplexes requests over the socket by stream id.
 *
 * <p>Design note. Everything here runs on the connection's loop, so there are no locks: the stream
 * table, the id counter and the flow-control counters are plain fields. A request opened from
 * another loop reaches this loop as a task, and its response events travel back the same way (see
 * {@link PipeStream}); a request opened on this loop never changes threads. Frames are cut by
 * {@link FrameDecoder} into retained slices, so a body goes from this socket to the client's
 * without a copy. Backpressure: with protocol 1.1 each stream has its own windows (CREDIT), so the
 * socket is always read and a slow client stalls only its own stream; a 1.0 child has no windows,
 * so reading stops while too much response is waiting for slow clients, which stalls every stream
 * of that connection (with the default concurrency of 1 there is only one). A protocol violation or
 * a broken socket fails every stream at once; the instance is then replaced.
 */
final class PipeConnection extends ChannelInboundHandlerAdapter {
  private static final Logger LOG = Logger.getLogger("dev.locallambdas.transport.pipe");

  /** Ids of requests given up on, kept so that the child's late frames for them are ignored. */
  private static final int ABANDONED_MEMORY = 1024;

  /** 1.0 only: response bytes waiting for slow clients beyond which the socket is not read. */
  static final long PAUSE_ABOVE = 256 * 1024;

  static final long RESUME_BELOW = 64 * 1024;

  private final String label;
  private final int concurrency;
  private final int version;
  private final int window;
  private final Channel channel;

  /** Shared-memory bodies, when the child accepted them (protocol section 8); else null. */
  private final ShmBodies shm;

  private final IntObjectHashMap<PipeStream> streams = new IntObjectHashMap<>();
  private final LinkedHashSet<Integer> abandoned = new LinkedHashSet<>();
  private int nextId = 1;
  private int active;
  private long outstanding;
  private TransportException failure;

  PipeConnection(String label, int concurrency, int version, int window, Channel channel) {
    this(label, concurrency, version, window, channel, null);
  }

  PipeConnection(
      String label, int concurrency, int version, int window, Channel channel, ShmBodies shm) {
    this.label = label;
    this.concurrency = concurrency;
    this.version = version;
    this.window = window;
    this.channel = channel;
    this.shm = shm;
    if (shm != null) {
      shm.connection(this);
    }
  }

  /** The shared-memory side, or null without it. */
  ShmBodies shm() {
    return shm;
  }

  String label() {
    return label;
  }

  int version() {
    return version;
  }

  int window() {
    return window;
  }

  EventLoop loop() {
    return channel.eventLoop();
  }

  boolean isWritable() {
    return channel.isWritable();
  }

  /** Calls not yet released (for tests and diagnostics; read on the loop). */
  int active() {
    return active;
  }

  // ---------------------------------------------------------------- opening calls

  /** Called on the client's loop; see {@link dev.locallambdas.transport.Endpoint#open}. */
  Call open(Request request, long timeoutMillis, EventLoop clientLoop, CallListener listener) {
    PipeStream s = new PipeStream(this, request, timeoutMillis, clientLoop, listener);
    EventLoop loop = loop();
    if (loop.inEventLoop()) {
      s.starting(true);
      try {
        start(s);
      } finally {
        s.starting(false);
      }
    } else {
      try {
        loop.execute(() -> start(s));
      } catch (RejectedExecutionException e) {
        s.refuse(
            new TransportException(Kind.NOT_DELIVERED, label + ": the gateway is stopping", e),
            Outcome.BROKEN);
      }
    }
    return s;
  }

  private void start(PipeStream s) {
    if (failure != null) {
      s.refuse(
          new TransportException(Kind.NOT_DELIVERED, failure.getMessage(), failure),
          Outcome.BROKEN);
      return;
    }
    if (active >= concurrency) {
      // The instance pool never lets this happen; refusing keeps the child's promise intact.
      s.refuse(
          new TransportException(
              Kind.NOT_DELIVERED,
              label + ": more than its concurrency of " + concurrency + " calls at once"),
          Outcome.FAILED);
      return;
    }
    active++;
    int id;
    do {
      id = nextId;
      nextId = nextId == Integer.MAX_VALUE ? 1 : nextId + 1;
    } while (streams.containsKey(id) || abandoned.contains(id));
    s.id = id;
    streams.put(id, s);
    s.start(version, window);
  }

  // ---------------------------------------------------------------- writing

  void writeHead(PipeStream s, Request r, boolean endStream, long deadlineMillis) {
    ByteBuf buf;
    try {
      buf =
          encode(
              channel.alloc(),
              out ->
                  FrameCodec.putRequestHead(
                      out, s.id, endStream, r.method(), r.target(), r.headers(), deadlineMillis));
    } catch (IllegalArgumentException e) {
      // Only a request the front door let through by mistake can get here (1 MiB of headers).
      fail(
          new TransportException(
              Kind.NOT_DELIVERED,
              label + ": the request cannot be sent over the pipe: " + e.getMessage()));
      return;
    }
    channel.writeAndFlush(buf).addListener(s);
  }

  /** A REQUEST_BODY frame; {@code payload} null for an empty final frame. Not flushed. */
  void writeBody(PipeStream s, ByteBuf payload, boolean endStream) {
    int n = payload == null ? 0 : payload.readableBytes();
    ByteBuf header = channel.alloc().directBuffer(FrameCodec.HEADER_SIZE);
    header
        .writeInt(n)
        .writeByte(FrameCodec.REQUEST_BODY)
        .writeByte(endStream ? FrameCodec.END_STREAM : 0)
        .writeInt(s.id);
    channel.write(header, channel.voidPromise());
    if (payload != null) {
      channel.write(payload, channel.voidPromise());
    }
  }

  void flush() {
    channel.flush();
  }

  void writeReset(PipeStream s, String reason) {
    if (failure == null) {
      channel.writeAndFlush(
          encode(channel.alloc(), out -> FrameCodec.putReset(out, s.id, reason)),
          channel.voidPromise());
    }
  }

  /** An SHM_BODY doorbell: the stream's next {@code length} body bytes are in {@code slot}. */
  void writeShmBody(PipeStream s, int slot, long generation, int length, boolean endStream) {
    ByteBuf buf =
        channel.alloc().directBuffer(FrameCodec.HEADER_SIZE + FrameCodec.SHM_BODY_PAYLOAD);
    ByteBuffer nio = buf.internalNioBuffer(0, buf.capacity());
    int start = nio.position();
    FrameCodec.putShmBody(nio, s.id, endStream, slot, generation, length);
    buf.writerIndex(nio.position() - start);
    channel.write(buf, channel.voidPromise());
  }

  /** An SHM_RELEASE: the child's slot may be written again. */
  void writeShmRelease(int slot, long generation) {
    if (failure == null) {
      channel.writeAndFlush(
          encode(channel.alloc(), out -> FrameCodec.putShmRelease(out, slot, generation)),
          channel.voidPromise());
    }
  }

  void writeCredit(PipeStream s, int increment) {
    if (failure == null) {
      channel.writeAndFlush(
          encode(channel.alloc(), out -> FrameCodec.putCredit(out, s.id, increment)),
          channel.voidPromise());
    }
  }

  interface Encoder {
    void encode(ByteBuffer out);
  }

  /** Runs a ByteBuffer encoder straight into a pooled buffer, growing it when it overflows. */
  static ByteBuf encode(ByteBufAllocator alloc, Encoder encoder) {
    int capacity = 512;
    while (true) {
      ByteBuf buf = alloc.directBuffer(capacity);
      ByteBuffer nio = buf.internalNioBuffer(0, buf.capacity());
      int start = nio.position();
      try {
        encoder.encode(nio);
        return buf.writerIndex(nio.position() - start);
      } catch (BufferOverflowException e) {
        buf.release();
        if (capacity > FrameCodec.MAX_PAYLOAD) {
          throw new IllegalArgumentException("frame larger than the protocol's 1 MiB limit");
        }
        capacity *= 4;
      } catch (RuntimeException e) {
        buf.release();
        throw e;
      }
    }
  }

  // ---------------------------------------------------------------- stream bookkeeping

  /** The child sent the stream's final frame. */
  void finished(PipeStream s) {
    streams.remove(s.id);
  }

  /** The gateway gave up on the stream before its final frame: ignore what still comes. */
  void abandon(PipeStream s) {
    if (streams.remove(s.id) != null) {
      abandoned.add(s.id);
      if (abandoned.size() > ABANDONED_MEMORY) {
        Iterator<Integer> oldest = abandoned.iterator();
        oldest.next();
        oldest.remove();
      }
    }
  }

  void released(PipeStream s) {
    active--;
  }

  /** Response bytes handed to a listener and not yet consumed (flow control of 1.0). */
  void delivered(long n) {
    outstanding += n;
    if (version < FrameCodec.VERSION_2 && outstanding > PAUSE_ABOVE) {
      channel.config().setAutoRead(false);
    }
  }

  void consumed(long n) {
    outstanding -= n;
    if (!channel.config().isAutoRead() && outstanding <= RESUME_BELOW && failure == null) {
      channel.config().setAutoRead(true);
    }
  }

  // ---------------------------------------------------------------- reading

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (FrameDecoder.TRUNCATED.equals(msg)) {
      fail(new TransportException(Kind.CHILD_FAILED, label + ": " + msg));
      return;
    }
    Frame f = (Frame) msg;
    try {
      route(f);
    } catch (FrameException e) {
      f.release();
      fail(
          new TransportException(
              Kind.PROTOCOL, label + ": child broke the pipe protocol: " + e.getMessage()));
    }
  }

  private void route(Frame f) throws FrameException {
    int type = f.type();
    int id = f.stream();
    if (failure != null) {
      f.release();
      return;
    }
    if (shm != null && shm.attachPending() && type != FrameCodec.SHM_ATTACH) {
      f.release();
      throw new FrameException(
          "child sent " + FrameCodec.typeName(type) + " before its SHM_ATTACH");
    }
    if (type >= FrameCodec.SHM_ATTACH && type <= FrameCodec.SHM_RELEASE) {
      routeShm(f);
      return;
    }
    if (id == 0) {
      if (type == FrameCodec.RESET) {
        String reason = FrameCodec.decodeReset(f.payload().nioBuffer());
        f.release();
        fail(
            new TransportException(
                Kind.CHILD_FAILED, label + ": child reset the connection: " + reason));
        return;
      }
      throw new FrameException(FrameCodec.typeName(type) + " after the handshake");
    }
    boolean credit = type == FrameCodec.CREDIT && version >= FrameCodec.VERSION_2;
    if (type != FrameCodec.RESPONSE_HEAD
        && type != FrameCodec.RESPONSE_BODY
        && type != FrameCodec.RESET
        && !credit) {
      throw new FrameException(
          "child sent "
              + FrameCodec.typeName(type)
              + (type == FrameCodec.CREDIT
                  ? " to a 1.0 connection"
                  : ", which only the gateway sends"));
    }
    int increment = 0;
    if (credit) {
      // Checked before the request is looked up (section 7.3): a bad CREDIT is an error even
      // when it crosses the request's end.
      try {
        increment = FrameCodec.decodeCredit(f.payload().nioBuffer());
      } finally {
        f.release();
      }
    }
    boolean last = type == FrameCodec.RESET || (type != FrameCodec.CREDIT && f.endStream());
    PipeStream s = streams.get(id);
    if (s == null) {
      f.release();
      if (abandoned.contains(id)) {
        if (last) {
          abandoned.remove(id);
        }
        return; // a late frame for a request the gateway gave up on
      }
      if (type == FrameCodec.RESET || credit) {
        return; // may cross the request's end
      }
      throw new FrameException(
          FrameCodec.typeName(type) + " for unknown request " + Integer.toUnsignedString(id));
    }
    switch (type) {
      case FrameCodec.RESPONSE_HEAD -> {
        try {
          s.responseHead(f.payload().nioBuffer(), f.endStream());
        } finally {
          f.release();
        }
      }
      case FrameCodec.RESPONSE_BODY -> s.responseBody(f.payload(), f.endStream());
      case FrameCodec.RESET -> {
        String reason = FrameCodec.decodeReset(f.payload().nioBuffer());
        f.release();
        s.childReset(reason);
      }
      default -> s.credit(increment);
    }
  }

  /** The shared-memory frames; the frame is released here. */
  private void routeShm(Frame f) throws FrameException {
    int type = f.type();
    if (shm == null) {
      f.release();
      throw new FrameException(
          "child sent " + FrameCodec.typeName(type) + " on a connection without shared memory");
    }
    ByteBuffer payload = f.payload().nioBuffer();
    if (type == FrameCodec.SHM_ATTACH) {
      try {
        shm.attached(payload);
      } finally {
        f.release();
      }
      return;
    }
    FrameCodec.SlotRef ref;
    try {
      ref = FrameCodec.decodeSlotRef(payload, type == FrameCodec.SHM_BODY);
    } finally {
      f.release();
    }
    if (type == FrameCodec.SHM_RELEASE) {
      shm.released(ref);
      return;
    }
    int id = f.stream();
    ByteBuf body = shm.arrived(ref); // checked before the stream is looked up, as CREDIT
    PipeStream s = streams.get(id);
    if (s == null) {
      body.release(); // gives the slot back at once
      if (abandoned.contains(id)) {
        if (f.endStream()) {
          abandoned.remove(id);
        }
        return;
      }
      throw new FrameException("SHM_BODY for unknown request " + Integer.toUnsignedString(id));
    }
    s.responseSlot(body, f.endStream());
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    for (PipeStream s : snapshot()) {
      if (s.sendingBody()) {
        s.flushBody();
      }
    }
    ctx.fireChannelWritabilityChanged();
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    if (cause instanceof DecoderException d && d.getCause() instanceof FrameException fe) {
      fail(
          new TransportException(
              Kind.PROTOCOL, label + ": child broke the pipe protocol: " + fe.getMessage()));
    } else if (cause instanceof IOException) {
      fail(
          new TransportException(
              Kind.CHILD_FAILED,
              label + ": connection to the child failed: " + cause.getMessage(),
              cause));
    } else {
      LOG.log(Level.SEVERE, label + ": pipe connection failed", cause);
      fail(
          new TransportException(
              Kind.CHILD_FAILED, label + ": pipe connection failed: " + cause, cause));
    }
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    fail(new TransportException(Kind.CHILD_FAILED, label + ": child closed the connection"));
  }

  /** Closes the connection from any thread; calls in flight fail. */
  void close() {
    try {
      loop()
          .execute(
              () -> fail(new TransportException(Kind.CHILD_FAILED, label + ": endpoint closed")));
    } catch (RejectedExecutionException e) {
      channel.close();
    }
  }

  /**
   * Marks the connection broken, closes it and fails every stream in flight; the first cause wins.
   */
  void fail(TransportException cause) {
    if (failure != null) {
      return;
    }
    failure = cause;
    channel.close();
    if (shm != null) {
      shm.close();
    }
    List<PipeStream> victims = snapshot();
    streams.clear();
    for (PipeStream s : victims) {
      s.connectionFailed(cause);
    }
    if (cause.kind() == Kind.PROTOCOL) {
      LOG.warning(cause.getMessage());
    } else {
      LOG.fine(cause::getMessage);
    }
  }

  private List<PipeStream> snapshot() {
    return new ArrayList<>(streams.values());
  }
}
