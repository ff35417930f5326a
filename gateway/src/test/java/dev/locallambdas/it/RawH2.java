package dev.locallambdas.it;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;

/**
 * A hostile HTTP/2 client: writes frames byte by byte as the test says, valid or not (RFC 9113
 * section 4), with header blocks in the simplest HPACK form (literal, never indexed, no Huffman).
 */
final class RawH2 implements AutoCloseable {
  static final int DATA = 0;
  static final int HEADERS = 1;
  static final int RST_STREAM = 3;
  static final int SETTINGS = 4;
  static final int PING = 6;
  static final int GOAWAY = 7;
  static final int CONTINUATION = 9;
  static final int END_STREAM = 0x1;
  static final int END_HEADERS = 0x4;

  static final int PROTOCOL_ERROR = 0x1;
  static final int ENHANCE_YOUR_CALM = 0xb;

  /** A frame the server sent. */
  @SuppressWarnings("ArrayRecordComponent") // a frame as read, compared by its fields
  record Frame(int type, int flags, int stream, byte[] payload) {
    /** The debug text of a GOAWAY frame. */
    String debug() {
      return type == GOAWAY
          ? new String(payload, 8, payload.length - 8, StandardCharsets.UTF_8)
          : "";
    }

    @Override
    public String toString() {
      return "frame type "
          + type
          + " stream "
          + stream
          + " "
          + (type == GOAWAY || type == RST_STREAM ? "error " + errorCode() + " " + debug() : "");
    }

    /** The error code of a GOAWAY or RST_STREAM frame. */
    int errorCode() {
      int at = type == GOAWAY ? 4 : 0;
      return ((payload[at] & 0xff) << 24)
          | ((payload[at + 1] & 0xff) << 16)
          | ((payload[at + 2] & 0xff) << 8)
          | (payload[at + 3] & 0xff);
    }
  }

  private final Socket socket;
  private final OutputStream out;
  private final DataInputStream in;

  RawH2(InetSocketAddress address) throws IOException {
    this(connect(address));
  }

  /** Over a socket already connected (a TLS one that negotiated h2, say). */
  RawH2(Socket socket) throws IOException {
    this.socket = socket;
    socket.setSoTimeout(10_000);
    out = socket.getOutputStream();
    in = new DataInputStream(socket.getInputStream());
  }

  private static Socket connect(InetSocketAddress address) throws IOException {
    Socket s = new Socket();
    s.connect(address, 5000);
    return s;
  }

  /** Bytes as they are, a piece of a preface or a frame, say. */
  void raw(byte[] bytes) throws IOException {
    out.write(bytes);
    out.flush();
  }

  /** An HTTP/1.1 response head (an h2c upgrade's 101), up to its empty line. */
  String http1Head() throws IOException {
    StringBuilder head = new StringBuilder();
    while (head.length() < 4 || !head.substring(head.length() - 4).equals("\r\n\r\n")) {
      head.append((char) in.readUnsignedByte());
    }
    return head.toString();
  }

  /** The client preface and an empty SETTINGS frame. */
  RawH2 preface() throws IOException {
    out.write("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
    frame(SETTINGS, 0, 0, new byte[0]);
    return this;
  }

  void frame(int type, int flags, int stream, byte[] payload) throws IOException {
    int n = payload.length;
    byte[] head = {
      (byte) (n >>> 16),
      (byte) (n >>> 8),
      (byte) n,
      (byte) type,
      (byte) flags,
      (byte) (stream >>> 24),
      (byte) (stream >>> 16),
      (byte) (stream >>> 8),
      (byte) stream
    };
    out.write(head);
    out.write(payload);
  }

  void flush() throws IOException {
    out.flush();
  }

  /** A header block of literal fields, name/value pairs in order. */
  static byte[] block(String... nameValues) {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    for (int i = 0; i < nameValues.length; i += 2) {
      b.write(0x10); // literal never indexed, new name
      string(b, nameValues[i]);
      string(b, nameValues[i + 1]);
    }
    return b.toByteArray();
  }

  private static void string(ByteArrayOutputStream b, String s) {
    byte[] bytes = s.getBytes(StandardCharsets.ISO_8859_1);
    int n = bytes.length;
    if (n < 127) {
      b.write(n);
    } else {
      b.write(127);
      n -= 127;
      while (n >= 128) {
        b.write((n & 0x7f) | 0x80);
        n >>>= 7;
      }
      b.write(n);
    }
    b.write(bytes, 0, bytes.length);
  }

  /** A GET's header block for {@code path}. */
  static byte[] get(String path, String... extra) {
    String[] base = {":method", "GET", ":scheme", "http", ":path", path, ":authority", "localhost"};
    String[] all = new String[base.length + extra.length];
    System.arraycopy(base, 0, all, 0, base.length);
    System.arraycopy(extra, 0, all, base.length, extra.length);
    return block(all);
  }

  /** The next frame, or null when the server closed the connection. */
  Frame read() throws IOException {
    try {
      int n = in.readUnsignedByte() << 16 | in.readUnsignedByte() << 8 | in.readUnsignedByte();
      int type = in.readUnsignedByte();
      int flags = in.readUnsignedByte();
      int stream = in.readInt() & 0x7fffffff;
      byte[] payload = new byte[n];
      in.readFully(payload);
      return new Frame(type, flags, stream, payload);
    } catch (EOFException e) {
      return null;
    } catch (java.net.SocketException e) {
      return null; // reset by the server
    }
  }

  /** Reads until a frame of {@code type} (returned) or the end of the connection (null). */
  Frame until(int type) throws IOException {
    Frame f;
    while ((f = read()) != null) {
      if (f.type() == type) {
        return f;
      }
    }
    return null;
  }

  /** Reads until a frame of {@code type} on {@code stream}, a GOAWAY, or the end. */
  Frame until(int type, int stream) throws IOException {
    Frame f;
    while ((f = read()) != null) {
      if ((f.type() == type && f.stream() == stream) || f.type() == GOAWAY) {
        return f;
      }
    }
    return null;
  }

  /** True once the server has closed the connection (reads end) within the socket timeout. */
  boolean closedByServer() throws IOException {
    try {
      while (read() != null) {
        // drain
      }
      return true;
    } catch (SocketTimeoutException e) {
      return false;
    }
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
