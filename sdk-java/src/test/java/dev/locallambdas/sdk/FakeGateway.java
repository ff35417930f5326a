package dev.locallambdas.sdk;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.UncheckedIOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;

/**
 * The gateway side of the pipe protocol, written from docs/protocol.md independently of the SDK's
 * codec: it listens on a real Unix socket and runs the SDK's {@link Server} on a thread.
 *
 * <p>It speaks version 2 (1.1) or 1. A reader thread takes every frame off the socket and does the
 * flow-control bookkeeping a gateway does: CREDIT frames from the SDK widen the request windows
 * (they are recorded in {@link #credits}, not handed to {@link #read}); every RESPONSE_BODY is
 * checked against its response window ({@link #close} fails the test on a violation) and, unless
 * automatic credit is off, credited once half a window has been read.
 */
final class FakeGateway implements AutoCloseable {

  static final int WINDOW = 65536; // the smallest the spec allows: small bodies use flow control

  private static final Frame EOF = new Frame(-1, 0, 0, new byte[0]);

  final Frame hello;
  final int version;
  final int window;
  final List<long[]> credits = Collections.synchronizedList(new ArrayList<>());
  private final Path dir;
  private final ServerSocketChannel listener;
  private final SocketChannel connection;
  private final Thread serverThread;
  private final CompletableFuture<Void> serverDone = new CompletableFuture<>();
  private final BlockingQueue<Frame> frames = new LinkedBlockingQueue<>();
  private final boolean autoCredit;
  private final List<String> violations = Collections.synchronizedList(new ArrayList<>());

  // Guarded by this.
  private final Map<Integer, Long> requestWindows = new HashMap<>();
  private final Map<Integer, Long> responseWindows = new HashMap<>();
  private final Map<Integer, Long> uncredited = new HashMap<>();

  private FakeGateway(
      Handler handler,
      int concurrency,
      int version,
      int window,
      boolean autoCredit,
      byte[] welcome,
      IntFunction<ExecutorService> pools)
      throws IOException {
    this.version = version;
    this.window = window;
    this.autoCredit = autoCredit;
    dir = Files.createTempDirectory("ll-sdk-test");
    listener = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
    listener.bind(UnixDomainSocketAddress.of(dir.resolve("pipe.sock")));
    Server server = Server.connect(dir.resolve("pipe.sock").toString(), handler, pools);
    serverThread = new Thread(() -> runServer(server), "sdk-under-test");
    serverThread.setDaemon(true);
    serverThread.start();
    connection = listener.accept();
    hello = readFromSocket();
    if (hello == null || hello.type() != Frame.HELLO) {
      throw new IllegalStateException("expected HELLO, got " + hello);
    }
    Thread reader = new Thread(this::readLoop, "fake-gateway-reader");
    reader.setDaemon(true);
    reader.start();
    byte[] tail = version == 2 ? ByteBuffer.allocate(8).putInt(window).putInt(0).array() : null;
    send(Frame.WELCOME, 0, 0, welcome != null ? welcome : welcome(version, concurrency, tail));
  }

  static FakeGateway start(Handler handler, int concurrency) throws IOException {
    return start(handler, concurrency, 2);
  }

  static FakeGateway start(Handler handler, int concurrency, int version) throws IOException {
    return start(handler, concurrency, version, WINDOW);
  }

  static FakeGateway start(Handler handler, int concurrency, int version, int window)
      throws IOException {
    return new FakeGateway(handler, concurrency, version, window, true, null, null);
  }

  /** Version 2 with CREDIT for responses granted only by {@link #grant}. */
  static FakeGateway withoutCredit(Handler handler, int concurrency) throws IOException {
    return new FakeGateway(handler, concurrency, 2, WINDOW, false, null, null);
  }

  /** Version 2 with the handlers' pool made by pools. */
  static FakeGateway withPool(Handler handler, int concurrency, IntFunction<ExecutorService> pools)
      throws IOException {
    return new FakeGateway(handler, concurrency, 2, WINDOW, true, null, pools);
  }

  /** Sends the given WELCOME payload (for tests of malformed ones). */
  static FakeGateway withWelcome(Handler handler, byte[] welcome) throws IOException {
    return new FakeGateway(handler, 1, 2, WINDOW, true, welcome, null);
  }

  /** A WELCOME payload, tail (if not null) after the function id. */
  static byte[] welcome(int version, int concurrency, byte[] tail) {
    return payload(
        out -> {
          out.writeShort(version);
          out.writeShort(concurrency);
          out.writeInt(Frame.MAX_PAYLOAD);
          writeStr16(out, "test-function");
          if (tail != null) {
            out.write(tail);
          }
        });
  }

  /** A gathered response as the gateway sees it. */
  static final class Answer {
    int status = -1;
    final Map<String, String> headers = new HashMap<>();
    final ByteArrayOutputStream body = new ByteArrayOutputStream();
    int frames;
    int largestChunk;
    String reset;

    String text() {
      return body.toString(StandardCharsets.UTF_8);
    }
  }

  void request(int id, String method, String target, boolean end, String... headerPairs)
      throws IOException {
    request(id, method, target, end, 0, headerPairs);
  }

  void request(
      int id, String method, String target, boolean end, long deadlineMillis, String... headerPairs)
      throws IOException {
    synchronized (this) {
      requestWindows.put(id, (long) window);
      responseWindows.put(id, (long) window);
      uncredited.put(id, 0L);
    }
    send(
        Frame.REQUEST_HEAD,
        end ? Frame.END_STREAM : 0,
        id,
        payload(
            out -> {
              writeStr16(out, method);
              byte[] t = target.getBytes(StandardCharsets.UTF_8);
              out.writeInt(t.length);
              out.write(t);
              out.writeShort(headerPairs.length / 2);
              for (int i = 0; i < headerPairs.length; i += 2) {
                writeStr16(out, headerPairs[i]);
                byte[] v = headerPairs[i + 1].getBytes(StandardCharsets.UTF_8);
                out.writeInt(v.length);
                out.write(v);
              }
              if (version == 2) {
                out.writeInt((int) deadlineMillis);
              }
            }));
  }

  /** One body frame as given, whatever the window says. */
  void body(int id, byte[] data, boolean end) throws IOException {
    send(Frame.REQUEST_BODY, end ? Frame.END_STREAM : 0, id, data);
  }

  /** Sends a body in 64 KiB chunks, the last with END_STREAM. */
  void bodyInChunks(int id, byte[] data) throws IOException {
    bodyInChunks(id, data, Frame.CHUNK, true);
  }

  /**
   * Sends a body in chunks of at most chunk bytes and (version 2) what the SDK credited, waiting
   * for its CREDIT.
   */
  void bodyInChunks(int id, byte[] data, int chunk, boolean end) throws IOException {
    int offset = 0;
    do {
      int n = Math.min(chunk, data.length - offset);
      if (version == 2 && n > 0) {
        n = (int) takeRequestWindow(id, n);
      }
      byte[] piece = new byte[n];
      System.arraycopy(data, offset, piece, 0, n);
      offset += n;
      body(id, piece, end && offset == data.length);
    } while (offset < data.length);
  }

  private synchronized long takeRequestWindow(int id, int wanted) throws IOException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (requestWindows.get(id) == 0) {
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        throw new IOException("no CREDIT for request " + id);
      }
      try {
        TimeUnit.NANOSECONDS.timedWait(this, left);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new InterruptedIOException();
      }
    }
    long n = Math.min(wanted, requestWindows.get(id));
    requestWindows.put(id, requestWindows.get(id) - n);
    return n;
  }

  /** Sends CREDIT for request id's response. */
  void grant(int id, int increment) throws IOException {
    synchronized (this) {
      responseWindows.merge(id, (long) increment, Long::sum);
      uncredited.put(id, Math.max(0, uncredited.getOrDefault(id, 0L) - increment));
    }
    send(Frame.CREDIT, 0, id, ByteBuffer.allocate(4).putInt(increment).array());
  }

  void reset(int id, String reason) throws IOException {
    send(Frame.RESET, 0, id, reason.getBytes(StandardCharsets.UTF_8));
  }

  void send(int type, int flags, int stream, byte[] payload) throws IOException {
    ByteBuffer header = ByteBuffer.allocate(10);
    header.putInt(payload.length).put((byte) type).put((byte) flags).putInt(stream).flip();
    sendRaw(header, ByteBuffer.wrap(payload));
  }

  /** Writes the buffers with gathering writes: a frame goes out in one piece when it can. */
  void sendRaw(ByteBuffer... buffers) throws IOException {
    synchronized (connection) {
      long left = 0;
      for (ByteBuffer buffer : buffers) {
        left += buffer.remaining();
      }
      while (left > 0) {
        left -= connection.write(buffers);
      }
    }
  }

  /** The next frame from the SDK other than CREDIT, or null at end of stream. */
  Frame read() throws IOException {
    Frame frame;
    try {
      frame = frames.poll(20, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException();
    }
    if (frame == null) {
      throw new IOException("no frame from the SDK for 20 s");
    }
    if (frame.type() == EOF.type()) {
      frames.add(EOF); // stays at the end
      return null;
    }
    return frame;
  }

  /** Reads frames until request {@code id}'s response ends, ignoring frames of {@code ignored}. */
  Answer answer(int id, int... ignored) throws IOException {
    Map<Integer, Answer> answers = new HashMap<>();
    while (true) {
      Frame frame = read();
      if (frame == null) {
        throw new IOException("connection closed before the answer to " + id);
      }
      if (contains(ignored, frame.stream())) {
        continue;
      }
      Answer answer = answers.computeIfAbsent(frame.stream(), k -> new Answer());
      if (add(answer, frame) && frame.stream() == id) {
        return answer;
      }
    }
  }

  /** Reads frames until {@code count} responses ended; keyed by request id. */
  Map<Integer, Answer> answers(int count) throws IOException {
    Map<Integer, Answer> answers = new HashMap<>();
    int ended = 0;
    while (ended < count) {
      Frame frame = read();
      if (frame == null) {
        throw new IOException("connection closed after " + ended + " answers");
      }
      if (add(answers.computeIfAbsent(frame.stream(), k -> new Answer()), frame)) {
        ended++;
      }
    }
    return answers;
  }

  /** Reads frames until request id's response ends; a frame of another request fails. */
  Answer answerAlone(int id) throws IOException {
    Answer answer = new Answer();
    while (true) {
      Frame frame = read();
      if (frame == null || frame.stream() != id) {
        throw new AssertionError("expected only frames of request " + id + ", got " + frame);
      }
      if (add(answer, frame)) {
        return answer;
      }
    }
  }

  /** Reads request id's body frames until its END_STREAM; returns how many body bytes came. */
  int readBodyToEnd(int id) throws IOException {
    int received = 0;
    while (true) {
      Frame frame = read();
      if (frame == null) {
        throw new IOException("connection closed after " + received + " body bytes");
      }
      if (frame.stream() == id && frame.type() == Frame.RESPONSE_BODY) {
        received += frame.payload().length;
        if (frame.endStream()) {
          return received;
        }
      }
    }
  }

  /** Reads request id's frames until count body bytes came (frames of others are dropped). */
  int readBody(int id, int count) throws IOException {
    int received = 0;
    while (received < count) {
      Frame frame = read();
      if (frame == null) {
        throw new IOException("connection closed after " + received + " body bytes");
      }
      if (frame.stream() == id && frame.type() == Frame.RESPONSE_BODY) {
        received += frame.payload().length;
      }
    }
    return received;
  }

  /** Waits for the SDK's server to return; its failure, or null if it returned normally. */
  Throwable awaitServerEnd() throws Exception {
    try {
      serverDone.get(10, TimeUnit.SECONDS);
      return null;
    } catch (java.util.concurrent.ExecutionException e) {
      return e.getCause();
    }
  }

  /** Closes the gateway's end of the connection, as a stopping gateway does. */
  void hangUp() throws IOException {
    connection.close();
  }

  @Override
  public void close() throws IOException {
    connection.close();
    listener.close();
    try {
      serverThread.join(10_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new java.io.InterruptedIOException("interrupted while the SDK server stopped");
    }
    Files.deleteIfExists(dir.resolve("pipe.sock"));
    Files.deleteIfExists(dir);
    if (!violations.isEmpty()) {
      throw new AssertionError("flow-control violations: " + violations);
    }
  }

  private void runServer(Server server) {
    try {
      server.run();
      serverDone.complete(null);
    } catch (Throwable e) {
      serverDone.completeExceptionally(e);
    }
  }

  private void readLoop() {
    try {
      Frame frame;
      while ((frame = readFromSocket()) != null) {
        if (account(frame)) {
          frames.add(frame);
        }
      }
    } catch (IOException e) {
      // closed
    } finally {
      frames.add(EOF);
    }
  }

  /** The bookkeeping of version 2; false for CREDIT, which read() does not return. */
  private boolean account(Frame frame) throws IOException {
    if (version != 2) {
      return true;
    }
    int id = frame.stream();
    if (frame.type() == Frame.CREDIT) {
      long increment = ByteBuffer.wrap(frame.payload()).getInt() & 0xFFFFFFFFL;
      if (id == 0 || increment == 0 || frame.payload().length != 4) {
        violations.add("CREDIT " + increment + " on stream " + id);
      }
      credits.add(new long[] {id, increment});
      synchronized (this) {
        requestWindows.computeIfPresent(id, (k, window) -> window + increment);
        notifyAll();
      }
      return false;
    }
    if (frame.type() == Frame.RESPONSE_BODY) {
      long due = 0;
      synchronized (this) {
        Long window = responseWindows.get(id);
        if (window != null) {
          int length = frame.payload().length;
          if (length > window) {
            violations.add(
                "request " + id + " sent " + length + " bytes with a window of " + window);
          }
          responseWindows.put(id, window - length);
          long owed = uncredited.get(id) + length;
          uncredited.put(id, owed);
          if (autoCredit && !frame.endStream() && owed >= window / 2) {
            due = owed;
          }
        }
      }
      if (due > 0) {
        grant(id, (int) due);
      }
    }
    return true;
  }

  private static boolean add(Answer answer, Frame frame) {
    answer.frames++;
    switch (frame.type()) {
      case Frame.RESPONSE_HEAD:
        if (answer.status != -1) {
          throw new AssertionError("second RESPONSE_HEAD for " + frame.stream());
        }
        ByteBuffer in = ByteBuffer.wrap(frame.payload());
        answer.status = in.getShort() & 0xFFFF;
        int count = in.getShort() & 0xFFFF;
        for (int i = 0; i < count; i++) {
          byte[] name = new byte[in.getShort() & 0xFFFF];
          in.get(name);
          byte[] value = new byte[in.getInt()];
          in.get(value);
          answer.headers.put(
              new String(name, StandardCharsets.UTF_8), new String(value, StandardCharsets.UTF_8));
        }
        return frame.endStream();
      case Frame.RESPONSE_BODY:
        if (answer.status == -1) {
          throw new AssertionError("RESPONSE_BODY before RESPONSE_HEAD for " + frame.stream());
        }
        answer.body.writeBytes(frame.payload());
        answer.largestChunk = Math.max(answer.largestChunk, frame.payload().length);
        return frame.endStream();
      case Frame.RESET:
        answer.reset = new String(frame.payload(), StandardCharsets.UTF_8);
        return true;
      default:
        throw new AssertionError("unexpected frame type " + frame.type());
    }
  }

  private Frame readFromSocket() throws IOException {
    ByteBuffer header = ByteBuffer.allocate(10);
    if (!readFully(header)) {
      return null;
    }
    header.flip();
    int length = header.getInt();
    int type = header.get() & 0xFF;
    int flags = header.get() & 0xFF;
    int stream = header.getInt();
    ByteBuffer payload = ByteBuffer.allocate(length);
    if (!readFully(payload)) {
      throw new IOException("EOF inside a frame");
    }
    return new Frame(type, flags, stream, payload.array());
  }

  private boolean readFully(ByteBuffer buffer) throws IOException {
    while (buffer.hasRemaining()) {
      if (connection.read(buffer) < 0) {
        if (buffer.position() == 0) {
          return false;
        }
        throw new IOException("EOF inside a frame");
      }
    }
    return true;
  }

  private static boolean contains(int[] ids, int id) {
    for (int i : ids) {
      if (i == id) {
        return true;
      }
    }
    return false;
  }

  interface PayloadBody {
    void write(DataOutputStream out) throws IOException;
  }

  static byte[] payload(PayloadBody body) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      body.write(out);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  static void writeStr16(DataOutputStream out, String text) throws IOException {
    byte[] utf8 = text.getBytes(StandardCharsets.UTF_8);
    out.writeShort(utf8.length);
    out.write(utf8);
  }
}
