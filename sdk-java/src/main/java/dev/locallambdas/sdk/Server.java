package dev.locallambdas.sdk;

import java.io.IOException;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntFunction;

/**
 * Serves one gateway connection: HELLO, WELCOME, then requests until the connection ends. The
 * calling thread reads the frames. With concurrency 1 it also runs the handler; with more, a pool
 * of that many daemon threads runs handlers while the calling thread hands each frame to its
 * request.
 */
final class Server {

  static final String SDK = "java/0.1.0";

  private final FrameChannel frames;
  private final Handler handler;

  /**
   * Makes the pool that runs handlers when the concurrency is above 1; null for the usual fixed
   * pool (tests replace it to hold requests back).
   */
  private final IntFunction<ExecutorService> pools;

  private final Map<Integer, Exchange> exchanges = new HashMap<>();

  private int concurrency = 1;
  private int version = 1;
  private long window;
  private int chunkSize = Frame.CHUNK;
  private String function = "";
  private ExecutorService pool;

  /** The shared-memory segment, when the gateway offered it and we could map it; else null. */
  private SharedSlots slots;

  // Sequential mode: set when the handler's thread met the end of the connection.
  private boolean closed;
  private ProtocolException fatal;

  Server(SocketChannel channel, Handler handler, IntFunction<ExecutorService> pools) {
    this.frames = new FrameChannel(channel);
    this.handler = handler;
    this.pools = pools;
  }

  static Server connect(String address, Handler handler) throws IOException {
    return connect(address, handler, null); // no method reference: no lambda bootstrap at start
  }

  static Server connect(String address, Handler handler, IntFunction<ExecutorService> pools)
      throws IOException {
    return new Server(SocketChannel.open(UnixDomainSocketAddress.of(address)), handler, pools);
  }

  /**
   * Serves until the gateway closes the connection, then returns.
   *
   * @throws ProtocolException if the gateway broke the protocol (the connection is closed)
   */
  void run() throws IOException {
    try {
      handshake();
      if (concurrency > 1) {
        pool =
            pools == null
                ? Executors.newFixedThreadPool(concurrency, new Workers())
                : pools.apply(concurrency);
      }
      while (!closed) {
        Frame frame;
        try {
          frame = frames.read();
        } catch (ProtocolException e) {
          throw e;
        } catch (IOException e) {
          return; // reset by peer and the like: the gateway is gone
        }
        if (frame == null) {
          return;
        }
        dispatch(frame);
        if (fatal != null) {
          throw fatal;
        }
      }
    } finally {
      connectionClosed("the gateway closed the connection");
      if (pool != null) {
        pool.shutdownNow();
      }
      frames.close();
    }
  }

  String function() {
    return function;
  }

  int concurrency() {
    return concurrency;
  }

  /** The protocol version WELCOME chose: 1, or 2 (1.1) with flow control and acknowledged RESET. */
  int version() {
    return version;
  }

  /** Version 2: every request's initial window, both directions. */
  long window() {
    return window;
  }

  private void handshake() throws IOException {
    // Versions 1..2; the capabilities word only when the gateway says it accepts it (a 1.0
    // gateway refuses bytes after sdk).
    long offered = offeredCapabilities();
    PayloadWriter helloWriter =
        new PayloadWriter().u16(1).u16(2).u32(ProcessHandle.current().pid()).str16(SDK);
    if (offered != 0) {
      helloWriter.u32(offered);
    }
    byte[] hello = helloWriter.toByteArray();
    frames.send(Frame.HELLO, 0, 0, hello);
    Frame frame = frames.read();
    if (frame == null) {
      throw new ProtocolException("the gateway closed the connection before WELCOME");
    }
    if (frame.type() == Frame.RESET && frame.stream() == 0) {
      throw new ProtocolException("the gateway refused the connection: " + text(frame));
    }
    if (frame.type() != Frame.WELCOME || frame.stream() != 0) {
      throw new ProtocolException(
          "expected WELCOME on stream 0, got type "
              + Frame.hex(frame.type())
              + " on stream "
              + frame.stream());
    }
    PayloadReader welcome = new PayloadReader(frame.payload(), "WELCOME");
    version = welcome.u16();
    if (version != 1 && version != 2) {
      throw new ProtocolException("the gateway chose protocol version " + version + ", not 1 or 2");
    }
    concurrency = welcome.u16();
    if (concurrency < 1) {
      throw new ProtocolException("WELCOME concurrency must be at least 1, got " + concurrency);
    }
    long maxPayload = welcome.u32();
    if (maxPayload < 1 || maxPayload > Frame.MAX_PAYLOAD) {
      throw new ProtocolException(
          "WELCOME max_payload must be within 1.." + Frame.MAX_PAYLOAD + ", got " + maxPayload);
    }
    frames.maxPayload((int) maxPayload);
    chunkSize = (int) Math.min(Frame.CHUNK, maxPayload);
    function = welcome.str16();
    String segment = null;
    long threshold = 0;
    if (version == 2) {
      window = welcome.u32();
      long capabilities = welcome.u32();
      if ((capabilities & ~offered) != 0) {
        throw new ProtocolException(
            "WELCOME accepted capabilities 0x" + Long.toHexString(capabilities) + " not offered");
      }
      if ((capabilities & Frame.CAP_SHM) != 0) {
        segment = welcome.str16();
        threshold = welcome.u32();
      }
      welcome.end();
      if (window < Frame.MIN_WINDOW || window > Frame.MAX_WINDOW) {
        throw new ProtocolException(
            "WELCOME window "
                + window
                + " is outside "
                + Frame.MIN_WINDOW
                + ".."
                + Frame.MAX_WINDOW);
      }
    }
    frames.version(version);
    if (segment != null) {
      attach(segment, threshold);
    }
  }

  /** Bits the gateway said it can accept (LOCAL_LAMBDAS_CAPABILITIES, hexadecimal). */
  private static long offeredCapabilities() {
    String value = System.getenv("LOCAL_LAMBDAS_CAPABILITIES");
    try {
      return value == null || value.isEmpty()
          ? 0
          : Long.parseLong(value.trim(), 16) & Frame.CAP_SHM;
    } catch (NumberFormatException e) {
      return 0;
    }
  }

  /** Maps the segment before reading anything else and says so: SHM_ATTACH (section 8.1). */
  private void attach(String segment, long threshold) throws IOException {
    PayloadWriter attach = new PayloadWriter();
    try {
      slots = SharedSlots.map(segment, threshold);
      frames.sharedMemory();
      attach.u32(0);
    } catch (IOException | RuntimeException e) {
      System.err.println("local-lambdas: shared memory unavailable, using frames: " + e);
      String reason = String.valueOf(e.getMessage());
      attach.u32(1).raw(reason.getBytes(StandardCharsets.UTF_8));
    }
    frames.send(Frame.SHM_ATTACH, 0, 0, attach.toByteArray());
  }

  /** The shared-memory slots, or null. */
  SharedSlots slots() {
    return slots;
  }

  private void dispatch(Frame frame) throws IOException {
    switch (frame.type()) {
      case Frame.REQUEST_HEAD:
        start(frame);
        break;
      case Frame.REQUEST_BODY:
        deliver(frame);
        break;
      case Frame.RESET:
        reset(frame);
        break;
      case Frame.CREDIT:
        credit(frame);
        break;
      case Frame.SHM_BODY:
        slotBody(frame);
        break;
      case Frame.SHM_RELEASE:
        slotReleased(frame);
        break;
      default:
        throw new ProtocolException(
            "unexpected frame type " + Frame.hex(frame.type()) + " from the gateway");
    }
  }

  private void start(Frame frame) throws IOException {
    int id = frame.stream();
    if (id == 0) {
      throw new ProtocolException("REQUEST_HEAD on stream 0");
    }
    PayloadReader head = new PayloadReader(frame.payload(), "REQUEST_HEAD");
    String method = head.str16();
    String target = head.str32();
    List<Map.Entry<String, String>> headers = head.headers();
    long deadlineMillis = version >= 2 ? head.u32() : 0;
    Exchange exchange = new Exchange(this, id, method, target, headers, deadlineMillis);
    synchronized (this) {
      Exchange previous = exchanges.get(id);
      if (previous != null && !previous.responseEnded) {
        throw new ProtocolException("request id " + id + " is already in use");
      }
      int inFlight = 0;
      for (Exchange other : exchanges.values()) {
        if (!other.responseEnded) {
          inFlight++;
        }
      }
      if (inFlight >= concurrency) {
        throw new ProtocolException("request " + id + " exceeds the concurrency of " + concurrency);
      }
      // Replaces an answered request whose late body frames were being discarded.
      exchanges.put(id, exchange);
      exchange.requestEnded = frame.endStream();
    }
    if (frame.endStream()) {
      // END_STREAM on the head: the request has no body (the payload is the head, not body bytes)
      exchange.body.offer(new byte[0], true);
    }
    if (pool == null) {
      exchange.run();
    } else {
      pool.execute(exchange);
    }
  }

  private void deliver(Frame frame) throws IOException {
    int id = frame.stream();
    Exchange exchange;
    synchronized (this) {
      exchange = exchanges.get(id);
      if (exchange == null) {
        throw new ProtocolException("REQUEST_BODY for unknown request id " + id);
      }
      if (exchange.requestEnded) {
        throw new ProtocolException("REQUEST_BODY after END_STREAM on request " + id);
      }
      if (frame.endStream()) {
        exchange.requestEnded = true;
        if (exchange.responseEnded) {
          exchanges.remove(id);
        }
      }
    }
    exchange.received(frame.payload().length);
    exchange.body.offer(frame.payload(), frame.endStream());
  }

  /**
   * An SHM_BODY: checked, copied out of the slot and released at once, then delivered like a
   * REQUEST_BODY (not counted in the window: the slot is its flow control).
   */
  private void slotBody(Frame frame) throws IOException {
    int id = frame.stream();
    if (id == 0 || frame.payload().length != 12) {
      throw new ProtocolException(
          "SHM_BODY on stream " + id + " with " + frame.payload().length + " bytes");
    }
    PayloadReader ref = new PayloadReader(frame.payload(), "SHM_BODY");
    int slot = ref.u16();
    int zero = ref.u16();
    long generation = ref.u32();
    long length = ref.u32();
    byte[] bytes = slots.arrived(slot, zero, generation, length);
    long released = slots.giveBack(slot);
    frames.send(
        Frame.SHM_RELEASE, 0, 0, new PayloadWriter().u16(slot).u16(0).u32(released).toByteArray());
    Exchange exchange;
    synchronized (this) {
      exchange = exchanges.get(id);
      if (exchange == null) {
        return; // late: a request we already finished or that was reset
      }
      if (exchange.requestEnded) {
        throw new ProtocolException("SHM_BODY after END_STREAM on request " + id);
      }
      if (frame.endStream()) {
        exchange.requestEnded = true;
        if (exchange.responseEnded) {
          exchanges.remove(id);
        }
      }
    }
    exchange.body.offer(bytes, frame.endStream());
  }

  private void slotReleased(Frame frame) throws ProtocolException {
    if (frame.stream() != 0 || frame.payload().length != 8) {
      throw new ProtocolException(
          "SHM_RELEASE on stream " + frame.stream() + " with " + frame.payload().length + " bytes");
    }
    PayloadReader ref = new PayloadReader(frame.payload(), "SHM_RELEASE");
    int slot = ref.u16();
    int zero = ref.u16();
    slots.released(slot, zero, ref.u32());
  }

  private void credit(Frame frame) throws ProtocolException {
    if (frame.stream() == 0 || frame.payload().length != 4) {
      throw new ProtocolException(
          "CREDIT on stream " + frame.stream() + " with " + frame.payload().length + " bytes");
    }
    long increment = new PayloadReader(frame.payload(), "CREDIT").u32();
    if (increment == 0 || increment > Frame.MAX_WINDOW) {
      throw new ProtocolException("CREDIT of " + increment + " on request " + frame.stream());
    }
    Exchange exchange;
    synchronized (this) {
      exchange = exchanges.get(frame.stream());
    }
    if (exchange != null) { // otherwise it crossed the end of the request: ignored
      exchange.credit(increment);
    }
  }

  private void reset(Frame frame) throws IOException {
    String reason = text(frame);
    if (frame.stream() == 0) {
      throw new ProtocolException("the gateway reset the connection: " + reason);
    }
    Exchange exchange;
    synchronized (this) {
      exchange = exchanges.remove(frame.stream());
    }
    // An id not in use is a RESET that crossed our END_STREAM: ignored.
    if (exchange != null
        && exchange.cancel(
            reason.isEmpty() ? "reset by the gateway" : "reset by the gateway: " + reason)) {
      // No handler took it yet (version 2): acknowledged at once.
      frames.send(
          Frame.RESET,
          0,
          frame.stream(),
          "cancelled before it started".getBytes(StandardCharsets.UTF_8));
    }
  }

  // Called from handler threads.

  boolean sequential() {
    return concurrency == 1;
  }

  Handler handler() {
    return handler;
  }

  FrameChannel frames() {
    return frames;
  }

  int chunkSize() {
    return chunkSize;
  }

  /** Marks the response ended before its last frame goes out, so a reused id is never refused. */
  synchronized void responseEnding(Exchange exchange) {
    exchange.responseEnded = true;
  }

  /**
   * The handler is done: forget the request, or keep discarding its late body frames; acknowledge a
   * RESET (version 2).
   */
  void finished(Exchange exchange) {
    synchronized (this) {
      exchange.responseEnded = true;
      if (exchange.requestEnded || exchange.isReset()) {
        exchanges.remove(exchange.id, exchange);
      }
    }
    exchange.body.discard();
    exchange.acknowledgeReset();
  }

  /**
   * Sequential mode, while a response streams: nobody else reads the socket, so look for a RESET
   * (or the end of the connection) that arrived meanwhile, without waiting.
   */
  void checkForReset(Exchange exchange) throws IOException {
    while (pool == null && !closed && !exchange.isReset() && frames.hasInput()) {
      pumpOne();
    }
  }

  /** Sequential mode: reads and handles one frame on the handler's thread. */
  void pumpOne() throws IOException {
    if (closed) {
      throw new IOException("the connection is closed");
    }
    try {
      Frame frame = frames.read();
      if (frame == null) {
        closed = true;
        connectionClosed("the gateway closed the connection");
        return;
      }
      dispatch(frame);
    } catch (ProtocolException e) {
      fatal = e;
      closed = true;
      connectionClosed("protocol error: " + e.getMessage());
      throw e;
    } catch (IOException e) {
      closed = true;
      connectionClosed("the connection failed: " + e);
      throw e;
    }
  }

  private void connectionClosed(String reason) {
    List<Exchange> open;
    synchronized (this) {
      open = new ArrayList<>(exchanges.values());
      exchanges.clear();
    }
    for (Exchange exchange : open) {
      exchange.reset(reason);
    }
  }

  private static String text(Frame frame) {
    return new String(frame.payload(), StandardCharsets.UTF_8);
  }

  /** Named daemon threads: a handler still running must not keep the process alive. */
  private static final class Workers implements ThreadFactory, Thread.UncaughtExceptionHandler {
    private final AtomicInteger count = new AtomicInteger();

    @Override
    public Thread newThread(Runnable task) {
      Thread thread = new Thread(task, "local-lambdas-handler-" + count.incrementAndGet());
      thread.setDaemon(true);
      thread.setUncaughtExceptionHandler(this);
      return thread;
    }

    @Override
    public void uncaughtException(Thread thread, Throwable e) {
      System.err.println("local-lambdas: uncaught in " + thread.getName());
      e.printStackTrace();
    }
  }
}
