package dev.locallambdas.sdk;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The gateway side of the pipe protocol, written from docs/protocol.md independently of the SDK's
 * codec: it listens on a real Unix socket and runs the SDK's {@link Server} on a thread.
 */
final class FakeGateway implements AutoCloseable {

  final Frame hello;
  private final Path dir;
  private final ServerSocketChannel listener;
  private final SocketChannel connection;
  private final Thread serverThread;
  private final CompletableFuture<Void> serverDone = new CompletableFuture<>();

  private FakeGateway(Handler handler, int concurrency, int maxPayload) throws IOException {
    dir = Files.createTempDirectory("ll-sdk-test");
    listener = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
    listener.bind(UnixDomainSocketAddress.of(dir.resolve("pipe.sock")));
    Server server = Server.connect(dir.resolve("pipe.sock").toString(), handler);
    serverThread = new Thread(() -> runServer(server), "sdk-under-test");
    serverThread.setDaemon(true);
    serverThread.start();
    connection = listener.accept();
    hello = read();
    if (hello == null || hello.type() != Frame.HELLO) {
      throw new IllegalStateException("expected HELLO, got " + hello);
    }
    send(
        Frame.WELCOME,
        0,
        0,
        payload(
            out -> {
              out.writeShort(1);
              out.writeShort(concurrency);
              out.writeInt(maxPayload);
              writeStr16(out, "test-function");
            }));
  }

  static FakeGateway start(Handler handler, int concurrency) throws IOException {
    return new FakeGateway(handler, concurrency, Frame.MAX_PAYLOAD);
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
            }));
  }

  void body(int id, byte[] data, boolean end) throws IOException {
    send(Frame.REQUEST_BODY, end ? Frame.END_STREAM : 0, id, data);
  }

  /** Sends a body in 64 KiB chunks, the last with END_STREAM. */
  void bodyInChunks(int id, byte[] data) throws IOException {
    int offset = 0;
    do {
      int n = Math.min(Frame.CHUNK, data.length - offset);
      byte[] chunk = new byte[n];
      System.arraycopy(data, offset, chunk, 0, n);
      offset += n;
      body(id, chunk, offset == data.length);
    } while (offset < data.length);
  }

  void reset(int id, String reason) throws IOException {
    send(Frame.RESET, 0, id, reason.getBytes(StandardCharsets.UTF_8));
  }

  void send(int type, int flags, int stream, byte[] payload) throws IOException {
    ByteBuffer header = ByteBuffer.allocate(10);
    header.putInt(payload.length).put((byte) type).put((byte) flags).putInt(stream).flip();
    sendRaw(header, ByteBuffer.wrap(payload));
  }

  synchronized void sendRaw(ByteBuffer... buffers) throws IOException {
    for (ByteBuffer buffer : buffers) {
      while (buffer.hasRemaining()) {
        connection.write(buffer);
      }
    }
  }

  /** The next frame from the SDK, or null at end of stream. */
  Frame read() throws IOException {
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
  }

  private void runServer(Server server) {
    try {
      server.run();
      serverDone.complete(null);
    } catch (Throwable e) {
      serverDone.completeExceptionally(e);
    }
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
