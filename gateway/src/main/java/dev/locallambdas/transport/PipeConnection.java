package dev.locallambdas.transport;

import static dev.locallambdas.transport.FrameCodec.HEADER_SIZE;

import dev.locallambdas.exchange.Request;
import dev.locallambdas.exchange.ResponseSink;
import dev.locallambdas.transport.TransportException.Kind;
import java.io.EOFException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.BufferOverflowException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The one connection to a pipe child after its handshake, multiplexed by request id. A reader
 * virtual thread decodes frames and routes each to its {@link PipeStream}; exchange threads write
 * whole frames under a lock, each frame with one write from a reused buffer.
 *
 * <p>Writes are blocking channel writes, and an interrupt that lands while a thread is blocked in
 * one closes the channel (that is how interruptible channels work). Exchanges therefore check for
 * an interrupt before every frame and stop cleanly; only an interrupt arriving during a write that
 * blocks on a full socket (a child that stopped reading) breaks the connection, and then every
 * request on it fails as CHILD_FAILED, which is what a stuck child deserves anyway.
 */
final class PipeConnection implements AutoCloseable {
  private static final Logger LOG = Logger.getLogger("dev.locallambdas.transport.pipe");

  /** Ids of requests the gateway reset, kept so that the child's late frames are ignored. */
  private static final int RESET_MEMORY = 1024;

  private static final ByteBuffer EMPTY = ByteBuffer.allocate(0).asReadOnlyBuffer();

  private final SocketChannel channel;
  private final String label;
  private final int concurrency;
  private final AtomicInteger active = new AtomicInteger();

  private final ReentrantLock writeLock = new ReentrantLock();
  private final ByteBuffer writeBuffer =
      ByteBuffer.allocateDirect(HEADER_SIZE + FrameCodec.BODY_CHUNK);
  private final ByteBuffer writeHeader = ByteBuffer.allocateDirect(HEADER_SIZE);
  private final ByteBuffer[] gather = new ByteBuffer[2];

  private final ReentrantLock streamsLock = new ReentrantLock();
  private final Map<Integer, PipeStream> streams = new HashMap<>();
  private final LinkedHashSet<Integer> resetIds = new LinkedHashSet<>();
  private int nextId = 1;
  private volatile TransportException failure;

  private final ByteBuffer readBuffer;

  private PipeConnection(
      SocketChannel channel, String label, int concurrency, ByteBuffer leftover) {
    this.channel = channel;
    this.label = label;
    this.concurrency = concurrency;
    this.readBuffer = ByteBuffer.allocateDirect(2 * (HEADER_SIZE + FrameCodec.BODY_CHUNK));
    readBuffer.put(leftover).flip();
  }

  /**
   * Takes over a blocking channel whose handshake is done; {@code leftover} holds bytes the child
   * sent after its HELLO.
   */
  static PipeConnection start(
      SocketChannel channel, String label, int concurrency, ByteBuffer leftover) {
    PipeConnection c = new PipeConnection(channel, label, concurrency, leftover);
    Thread.ofVirtual().name("pipe-reader-" + label).start(c::readLoop);
    return c;
  }

  void exchange(Request request, ResponseSink sink) throws IOException {
    if (active.incrementAndGet() > concurrency) {
      active.decrementAndGet();
      throw new IllegalStateException(
          label + ": more than its concurrency of " + concurrency + " exchanges at once");
    }
    try {
      new PipeExchange(this, open(), sink).run(request);
    } finally {
      active.decrementAndGet();
    }
  }

  String label() {
    return label;
  }

  @Override
  public void close() {
    fail(new TransportException(Kind.CHILD_FAILED, label + ": endpoint closed"));
  }

  // ---------------------------------------------------------------- stream table

  private PipeStream open() throws TransportException {
    streamsLock.lock();
    try {
      TransportException f = failure;
      if (f != null) {
        throw new TransportException(Kind.NOT_DELIVERED, f.getMessage(), f);
      }
      int id;
      do {
        id = nextId;
        nextId = nextId == Integer.MAX_VALUE ? 1 : nextId + 1;
      } while (streams.containsKey(id) || resetIds.contains(id));
      PipeStream s = new PipeStream(id);
      streams.put(id, s);
      return s;
    } finally {
      streamsLock.unlock();
    }
  }

  /**
   * Ends a stream from the gateway's side. Returns true when the child had not finished it, so that
   * a RESET is due; its late frames will be ignored.
   */
  boolean abandon(PipeStream s) {
    s.close();
    streamsLock.lock();
    try {
      if (!streams.remove(s.id, s)) {
        return false;
      }
      resetIds.add(s.id);
      if (resetIds.size() > RESET_MEMORY) {
        Iterator<Integer> oldest = resetIds.iterator();
        oldest.next();
        oldest.remove();
      }
      return failure == null;
    } finally {
      streamsLock.unlock();
    }
  }

  /**
   * Marks the connection broken, closes it and fails every stream in flight; the first cause wins.
   * Returns the cause that stands.
   */
  TransportException fail(TransportException cause) {
    List<PipeStream> victims;
    streamsLock.lock();
    try {
      if (failure != null) {
        return failure;
      }
      failure = cause;
      victims = new ArrayList<>(streams.values());
      streams.clear();
    } finally {
      streamsLock.unlock();
    }
    try {
      channel.close();
    } catch (IOException e) {
      LOG.log(Level.FINE, label + ": closing the pipe failed", e);
    }
    for (PipeStream s : victims) {
      s.fail(cause);
    }
    if (cause.kind() == Kind.PROTOCOL) {
      LOG.warning(cause.getMessage());
    } else {
      LOG.fine(cause.getMessage());
    }
    return cause;
  }

  /** A protocol violation found by an exchange: breaks the connection for everyone. */
  TransportException protocolError(PipeStream s, String message) {
    TransportException f = fail(new TransportException(Kind.PROTOCOL, message));
    return forStream(s, f);
  }

  private static TransportException forStream(PipeStream s, TransportException f) {
    Kind kind = s != null && s.delivered ? f.kind() : Kind.NOT_DELIVERED;
    return new TransportException(kind, f.getMessage(), f);
  }

  // ---------------------------------------------------------------- writing

  void writeRequestHead(PipeStream s, Request r, boolean endStream) throws IOException {
    lockForWrite();
    try {
      ByteBuffer b = writeBuffer;
      while (true) {
        b.clear();
        try {
          FrameCodec.putRequestHead(b, s.id, endStream, r.method(), r.target(), r.headers());
          break;
        } catch (BufferOverflowException e) {
          // A rare, huge head: encode it once into a larger heap buffer, up to the frame limit.
          if (b.capacity() >= HEADER_SIZE + FrameCodec.MAX_PAYLOAD) {
            throw new IOException(
                label + ": request head is larger than the pipe protocol's 1 MiB frame limit");
          }
          b = ByteBuffer.allocate(Math.min(b.capacity() * 4, HEADER_SIZE + FrameCodec.MAX_PAYLOAD));
        } catch (IllegalArgumentException e) {
          throw new IOException(
              label + ": request cannot be sent over the pipe: " + e.getMessage());
        }
      }
      b.flip();
      flush(s, b);
    } finally {
      writeLock.unlock();
    }
  }

  /** A REQUEST_BODY frame with the next {@code n} (at most 64 KiB) bytes of {@code src}. */
  void writeRequestBody(PipeStream s, ByteBuffer src, int n, boolean endStream) throws IOException {
    lockForWrite();
    try {
      if (src.isDirect() && n > 0) {
        // Already in native memory: gather the header and the caller's bytes in one write.
        ByteBuffer h = writeHeader.clear();
        FrameCodec.putHeader(
            h, n, FrameCodec.REQUEST_BODY, endStream ? FrameCodec.END_STREAM : 0, s.id);
        gather[0] = h.flip();
        gather[1] = src.slice(src.position(), n);
        try {
          flush(s, gather);
        } finally {
          gather[1] = null;
        }
        src.position(src.position() + n);
      } else {
        ByteBuffer b = writeBuffer.clear();
        FrameCodec.putBody(b, FrameCodec.REQUEST_BODY, s.id, endStream, src, n);
        flush(s, b.flip());
      }
    } finally {
      writeLock.unlock();
    }
  }

  /** Best effort: a RESET must go out even from an interrupted thread, without closing the pipe. */
  void resetQuietly(int id, String reason) {
    if (failure != null) {
      return;
    }
    boolean interrupted = Thread.interrupted();
    writeLock.lock();
    try {
      ByteBuffer b = writeBuffer.clear();
      FrameCodec.putReset(b, id, reason);
      b.flip();
      while (b.hasRemaining()) {
        channel.write(b);
      }
    } catch (IOException e) {
      fail(
          new TransportException(
              Kind.CHILD_FAILED, label + ": sending RESET failed: " + e.getMessage(), e));
    } finally {
      writeLock.unlock();
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private void lockForWrite() throws InterruptedIOException {
    try {
      writeLock.lockInterruptibly();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException(label + ": interrupted while waiting to write");
    }
  }

  private void flush(PipeStream s, ByteBuffer b) throws IOException {
    beforeWrite(s);
    try {
      while (b.hasRemaining()) {
        if (channel.write(b) > 0) {
          s.delivered = true;
        }
      }
    } catch (IOException e) {
      throw writeFailed(s, e);
    }
  }

  private void flush(PipeStream s, ByteBuffer[] bs) throws IOException {
    beforeWrite(s);
    try {
      while (bs[0].hasRemaining() || bs[1].hasRemaining()) {
        if (channel.write(bs) > 0) {
          s.delivered = true;
        }
      }
    } catch (IOException e) {
      throw writeFailed(s, e);
    }
  }

  private void beforeWrite(PipeStream s) throws IOException {
    TransportException f = failure;
    if (f != null) {
      throw forStream(s, f);
    }
    // Checked without clearing: with the flag set, the write would close the channel.
    if (Thread.currentThread().isInterrupted()) {
      throw new InterruptedIOException(label + ": interrupted before writing");
    }
  }

  private IOException writeFailed(PipeStream s, IOException e) {
    if (e instanceof ClosedByInterruptException) {
      fail(
          new TransportException(
              Kind.CHILD_FAILED,
              label + ": pipe closed by an interrupt during a blocked write",
              e));
      return new InterruptedIOException(label + ": interrupted while writing");
    }
    return forStream(
        s,
        fail(
            new TransportException(
                Kind.CHILD_FAILED, label + ": writing to the child failed: " + e.getMessage(), e)));
  }

  // ---------------------------------------------------------------- reading

  private void readLoop() {
    try {
      while (fill(HEADER_SIZE)) {
        ByteBuffer in = readBuffer;
        int length = FrameCodec.checkHeader(in);
        int type = FrameCodec.typeAt(in);
        int flags = FrameCodec.flagsAt(in);
        int id = FrameCodec.streamAt(in);
        in.position(in.position() + HEADER_SIZE);
        ByteBuffer payload = EMPTY;
        if (length > 0) {
          byte[] bytes = new byte[length];
          int off = 0;
          while (off < length) {
            if (!in.hasRemaining() && !fill(1)) {
              throw new EOFException("connection closed in the middle of a frame");
            }
            int n = Math.min(in.remaining(), length - off);
            in.get(bytes, off, n);
            off += n;
          }
          payload = ByteBuffer.wrap(bytes);
        }
        route(type, flags, id, payload);
      }
      fail(new TransportException(Kind.CHILD_FAILED, label + ": child closed the connection"));
    } catch (FrameException e) {
      fail(
          new TransportException(
              Kind.PROTOCOL, label + ": child broke the pipe protocol: " + e.getMessage()));
    } catch (IOException e) {
      fail(
          new TransportException(
              Kind.CHILD_FAILED, label + ": connection to the child failed: " + e.getMessage(), e));
    } catch (InterruptedException e) {
      fail(new TransportException(Kind.CHILD_FAILED, label + ": pipe reader interrupted", e));
    } catch (RuntimeException | Error e) {
      LOG.log(Level.SEVERE, label + ": pipe reader failed", e);
      fail(new TransportException(Kind.CHILD_FAILED, label + ": pipe reader failed: " + e, e));
      throw e;
    }
  }

  /** Makes at least {@code n} bytes readable; false on a clean end of stream between frames. */
  private boolean fill(int n) throws IOException {
    ByteBuffer in = readBuffer;
    while (in.remaining() < n) {
      in.compact();
      int r;
      try {
        r = channel.read(in);
      } finally {
        in.flip();
      }
      if (r < 0) {
        if (in.hasRemaining()) {
          throw new EOFException("connection closed in the middle of a frame");
        }
        return false;
      }
    }
    return true;
  }

  private void route(int type, int flags, int id, ByteBuffer payload)
      throws FrameException, InterruptedException {
    if (id == 0) {
      if (type == FrameCodec.RESET) {
        fail(
            new TransportException(
                Kind.CHILD_FAILED,
                label + ": child reset the connection: " + FrameCodec.decodeReset(payload)));
        return;
      }
      throw new FrameException(FrameCodec.typeName(type) + " after the handshake");
    }
    if (type != FrameCodec.RESPONSE_HEAD
        && type != FrameCodec.RESPONSE_BODY
        && type != FrameCodec.RESET) {
      throw new FrameException(
          "child sent " + FrameCodec.typeName(type) + ", which only the gateway sends");
    }
    boolean last = type == FrameCodec.RESET || (flags & FrameCodec.END_STREAM) != 0;
    PipeStream s;
    streamsLock.lock();
    try {
      s = streams.get(id);
      if (s == null) {
        if (resetIds.contains(id)) {
          if (last) {
            resetIds.remove(id);
          }
          return; // a late frame for a request the gateway gave up on
        }
        throw new FrameException(
            FrameCodec.typeName(type) + " for unknown request " + Integer.toUnsignedString(id));
      }
      if (type == FrameCodec.RESPONSE_HEAD) {
        if (s.headSeen) {
          throw new FrameException("second RESPONSE_HEAD for request " + id);
        }
        s.headSeen = true;
      } else if (type == FrameCodec.RESPONSE_BODY && !s.headSeen) {
        throw new FrameException("RESPONSE_BODY before RESPONSE_HEAD for request " + id);
      }
      if (last) {
        streams.remove(id);
      }
    } finally {
      streamsLock.unlock();
    }
    s.deliver(new Frame(type, flags, id, payload));
  }
}
