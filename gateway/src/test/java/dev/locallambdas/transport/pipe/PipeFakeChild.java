package dev.locallambdas.transport.pipe;

import dev.locallambdas.exchange.Headers;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The child's side of the pipe protocol, scriptable from a test: it connects to PIPE_ADDRESS and
 * sends exactly what the test asks, including frames no real child should send. Sends are
 * thread-safe; reads happen on one thread.
 */
final class PipeFakeChild implements AutoCloseable {
  private final SocketChannel channel;
  private final ByteBuffer in = ByteBuffer.allocate(4 * (10 + FrameCodec.MAX_PAYLOAD)).flip();
  private final ByteBuffer out = ByteBuffer.allocate(10 + FrameCodec.MAX_PAYLOAD);

  /** A request as the child saw it, with the sizes of its body frames. */
  @SuppressWarnings("ArrayRecordComponent") // bytes as received, compared by content
  record Received(
      int id,
      String method,
      String target,
      Headers headers,
      byte[] body,
      List<Integer> chunks,
      long deadlineMillis) {}

  /** The version the WELCOME chose; decides how request heads are decoded. */
  private int version = FrameCodec.VERSION_1;

  private PipeFakeChild(SocketChannel channel) {
    this.channel = channel;
  }

  static PipeFakeChild connect(Path address) throws IOException {
    return new PipeFakeChild(SocketChannel.open(UnixDomainSocketAddress.of(address)));
  }

  static PipeFakeChild connect(String address) throws IOException {
    return connect(Path.of(address));
  }

  /** Connects, says HELLO for version 1 (the handshake completes once the gateway awaits it). */
  static PipeFakeChild connectAndHello(String address) throws IOException {
    PipeFakeChild c = connect(address);
    c.hello(1, 1);
    return c;
  }

  synchronized void sendRaw(byte[] bytes) throws IOException {
    ByteBuffer b = ByteBuffer.wrap(bytes);
    while (b.hasRemaining()) {
      channel.write(b);
    }
  }

  private void flushOut() throws IOException {
    out.flip();
    while (out.hasRemaining()) {
      channel.write(out);
    }
    out.clear();
  }

  synchronized void hello(int min, int max) throws IOException {
    if (max >= FrameCodec.VERSION_2) {
      FrameCodec.putHello(out, min, max, ProcessHandle.current().pid(), "fake/1", 0);
    } else {
      FrameCodec.putHello(out, min, max, ProcessHandle.current().pid(), "fake/1");
    }
    flushOut();
  }

  /** HELLO for versions 1..2 offering shared-memory bodies (protocol section 8). */
  synchronized void helloShm() throws IOException {
    FrameCodec.putHello(out, 1, 2, ProcessHandle.current().pid(), "fake/1", FrameCodec.CAP_SHM);
    flushOut();
  }

  synchronized void attach(int status, String reason) throws IOException {
    FrameCodec.putShmAttach(out, status, reason);
    flushOut();
  }

  synchronized void shmBody(int id, int slot, long generation, int length, boolean end)
      throws IOException {
    FrameCodec.putShmBody(out, id, end, slot, generation, length);
    flushOut();
  }

  synchronized void shmRelease(int slot, long generation) throws IOException {
    FrameCodec.putShmRelease(out, slot, generation);
    flushOut();
  }

  synchronized void credit(int id, int increment) throws IOException {
    FrameCodec.putCredit(out, id, increment);
    flushOut();
  }

  synchronized void head(int id, int status, Headers headers, boolean end) throws IOException {
    FrameCodec.putResponseHead(out, id, end, status, headers);
    flushOut();
  }

  synchronized void body(int id, byte[] bytes, boolean end) throws IOException {
    body(id, ByteBuffer.wrap(bytes), end);
  }

  synchronized void body(int id, ByteBuffer bytes, boolean end) throws IOException {
    FrameCodec.putBody(out, FrameCodec.RESPONSE_BODY, id, end, bytes, bytes.remaining());
    flushOut();
  }

  synchronized void reset(int id, String reason) throws IOException {
    FrameCodec.putReset(out, id, reason);
    flushOut();
  }

  /** The next frame, or null when the gateway closed the connection. */
  Frame read() throws IOException {
    while (true) {
      try {
        Frame f = FrameCodec.decode(in);
        if (f != null) {
          return f;
        }
      } catch (FrameException e) {
        throw new IOException("gateway sent a bad frame: " + e.getMessage(), e);
      }
      in.compact();
      int r = channel.read(in);
      in.flip();
      if (r < 0) {
        if (in.hasRemaining()) {
          throw new IOException("gateway closed the connection in the middle of a frame");
        }
        return null;
      }
    }
  }

  Frame expect(int type) throws IOException {
    Frame f = read();
    if (f == null || f.type() != type) {
      throw new IOException("expected " + FrameCodec.typeName(type) + " but got " + f);
    }
    return f;
  }

  FrameCodec.Welcome welcome() throws IOException {
    try {
      FrameCodec.Welcome w =
          FrameCodec.decodeWelcome(expect(FrameCodec.WELCOME).payload().nioBuffer());
      version = w.version();
      return w;
    } catch (FrameException e) {
      throw new IOException(e);
    }
  }

  /** Reads one whole request (head and body); null at end of stream. */
  Received request() throws IOException {
    Frame head = read();
    if (head == null) {
      return null;
    }
    return request(head);
  }

  Received request(Frame head) throws IOException {
    if (head.type() != FrameCodec.REQUEST_HEAD) {
      throw new IOException("expected REQUEST_HEAD but got " + head);
    }
    FrameCodec.RequestHead h;
    try {
      h = FrameCodec.decodeRequestHead(head.payload().nioBuffer(), version);
    } catch (FrameException e) {
      throw new IOException(e);
    }
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    List<Integer> chunks = new ArrayList<>();
    boolean end = head.endStream();
    while (!end) {
      Frame f = expect(FrameCodec.REQUEST_BODY);
      if (f.stream() != head.stream()) {
        throw new IOException("body of another request interleaved: " + f);
      }
      chunks.add(f.payload().readableBytes());
      byte[] bytes = new byte[f.payload().readableBytes()];
      f.payload().readBytes(bytes);
      body.write(bytes, 0, bytes.length);
      end = f.endStream();
    }
    return new Received(
        head.stream(),
        h.method(),
        h.target(),
        h.headers(),
        body.toByteArray(),
        chunks,
        h.deadlineMillis());
  }

  /** Answers one request: a head and, when the body is not empty, one final body frame. */
  void respond(int id, int status, Headers headers, byte[] body) throws IOException {
    if (body.length == 0) {
      head(id, status, headers, true);
    } else {
      head(id, status, headers, false);
      body(id, body, true);
    }
  }

  @Override
  public void close() throws IOException {
    channel.close();
  }
}
