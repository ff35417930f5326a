package dev.locallambdas.frontdoor;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A test client on a raw socket: the test writes exactly the bytes it wants, and responses are read
 * by a deliberately strict HTTP/1.1 parser that fails on anything a conforming server would not
 * send (bare LF, a header without a colon, Content-Length together with Transfer-Encoding, a body
 * shorter than announced, bytes after a HEAD response).
 */
final class RawConnection implements AutoCloseable {
  /** How long a read may block before the test gives up: a safety net, never a measurement. */
  static final int READ_TIMEOUT_MILLIS = 20_000;

  private final Socket socket;
  private final InputStream in;
  private final OutputStream out;
  private final byte[] buf = new byte[16 * 1024];
  private int pos;
  private int lim;

  private RawConnection(Socket socket) throws IOException {
    this.socket = socket;
    this.in = socket.getInputStream();
    this.out = socket.getOutputStream();
  }

  static RawConnection open(InetSocketAddress address) throws IOException {
    return open(address, -1);
  }

  /** Opens a connection, with a small socket receive buffer when {@code receiveBuffer} > 0. */
  static RawConnection open(InetSocketAddress address, int receiveBuffer) throws IOException {
    Socket s = new Socket();
    if (receiveBuffer > 0) {
      s.setReceiveBufferSize(receiveBuffer);
    }
    s.setTcpNoDelay(true);
    s.setSoTimeout(READ_TIMEOUT_MILLIS);
    s.connect(address, 5_000);
    return new RawConnection(s);
  }

  /** Writes the string's characters as bytes (ISO-8859-1: each char 0-255 is one byte). */
  RawConnection send(String raw) throws IOException {
    return send(raw.getBytes(StandardCharsets.ISO_8859_1));
  }

  RawConnection send(byte[] raw) throws IOException {
    out.write(raw);
    out.flush();
    return this;
  }

  /** Reads one response (an interim 1xx one is returned on its own) with its whole body. */
  RawResponse read() throws IOException {
    return read(false);
  }

  /** Reads one response; {@code toHead} says the request was HEAD, so no body follows. */
  RawResponse read(boolean toHead) throws IOException {
    RawResponse head = readHead();
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    readBody(head, toHead, body::write);
    return head.withBody(body.toByteArray());
  }

  /** Reads a status line and header section. */
  RawResponse readHead() throws IOException {
    String status = line();
    if (!status.matches("HTTP/1\\.1 [1-5][0-9][0-9] [\\x20-\\x7e]*")) {
      throw new IOException("malformed status line: " + printable(status));
    }
    List<String[]> headers = new ArrayList<>();
    for (String l = line(); !l.isEmpty(); l = line()) {
      int colon = l.indexOf(':');
      if (colon <= 0 || !l.substring(0, colon).matches("[!#$%&'*+.^_`|~0-9A-Za-z-]+")) {
        throw new IOException("malformed header line: " + printable(l));
      }
      String value = l.substring(colon + 1).strip();
      if (!value.matches("[\\x20-\\x7e\\t]*")) {
        throw new IOException("control character in header value: " + printable(l));
      }
      headers.add(new String[] {l.substring(0, colon), value});
    }
    RawResponse r =
        new RawResponse(
            Integer.parseInt(status.substring(9, 12)), status.substring(13), headers, new byte[0]);
    if (r.header("content-length") != null && r.header("transfer-encoding") != null) {
      throw new IOException("response has both Content-Length and Transfer-Encoding: " + r);
    }
    return r;
  }

  interface BodyConsumer {
    void accept(byte[] b, int off, int len) throws IOException;
  }

  /** Reads the body that belongs to {@code head}, handing it over piece by piece. */
  void readBody(RawResponse head, boolean toHead, BodyConsumer consumer) throws IOException {
    int status = head.status();
    if (toHead || status < 200 || status == 204 || status == 304) {
      return;
    }
    String te = head.header("transfer-encoding");
    String cl = head.header("content-length");
    if (te != null) {
      if (!te.equalsIgnoreCase("chunked")) {
        throw new IOException("unexpected transfer-encoding " + te);
      }
      while (true) {
        String size = line();
        if (!size.matches("[0-9a-fA-F]{1,8}")) {
          throw new IOException("malformed chunk size line: " + printable(size));
        }
        long n = Long.parseLong(size, 16);
        if (n == 0) {
          break;
        }
        copy(n, consumer);
        if (!line().isEmpty()) {
          throw new IOException("chunk data not followed by CRLF");
        }
      }
      if (!line().isEmpty()) {
        throw new IOException("unexpected trailer section");
      }
    } else if (cl != null) {
      if (!cl.matches("[0-9]{1,18}") || head.headers("content-length").size() != 1) {
        throw new IOException("malformed content-length: " + head.headers("content-length"));
      }
      copy(Long.parseLong(cl), consumer);
    } else {
      if (!"close".equalsIgnoreCase(head.header("connection"))) {
        throw new IOException("a body delimited by the close needs Connection: close: " + head);
      }
      while (true) {
        if (pos == lim && !fill()) {
          return;
        }
        consumer.accept(buf, pos, lim - pos);
        pos = lim;
      }
    }
  }

  /**
   * True when the server has closed the connection (end of stream or reset) and sent nothing more.
   * Fails when bytes arrive instead.
   */
  boolean closedByServer() throws IOException {
    try {
      if (pos < lim || fill()) {
        throw new IOException(
            "expected the connection to be closed, but got: "
                + printable(new String(buf, pos, lim - pos, StandardCharsets.ISO_8859_1)));
      }
      return true;
    } catch (SocketException e) {
      return true; // reset: closed as well
    } catch (SocketTimeoutException e) {
      return false;
    }
  }

  /**
   * True when the server ended the connection with a clean end of stream (FIN) and sent nothing
   * more; a reset is not clean and fails with its SocketException.
   */
  boolean cleanEndOfStream() throws IOException {
    if (pos < lim || fill()) {
      throw new IOException(
          "expected the end of the stream, but got: "
              + printable(new String(buf, pos, lim - pos, StandardCharsets.ISO_8859_1)));
    }
    return true;
  }

  /** True when no byte is waiting (nothing extra was sent after the last response). */
  boolean nothingBuffered() throws IOException {
    return pos == lim && in.available() == 0;
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }

  Socket socket() {
    return socket;
  }

  private void copy(long n, BodyConsumer consumer) throws IOException {
    while (n > 0) {
      if (pos == lim && !fill()) {
        throw new EOFException("connection closed with " + n + " body bytes missing");
      }
      int k = (int) Math.min(n, lim - pos);
      consumer.accept(buf, pos, k);
      pos += k;
      n -= k;
    }
  }

  /** A line ending in CRLF, without it. A bare LF or a lone CR is an error. */
  private String line() throws IOException {
    StringBuilder sb = new StringBuilder();
    while (true) {
      if (pos == lim && !fill()) {
        throw new EOFException(
            "connection closed in the middle of a line: " + printable(sb.toString()));
      }
      char c = (char) (buf[pos++] & 0xff);
      if (c == '\n') {
        int n = sb.length();
        if (n == 0 || sb.charAt(n - 1) != '\r') {
          throw new IOException("bare LF after: " + printable(sb.toString()));
        }
        sb.setLength(n - 1);
        if (sb.indexOf("\r") >= 0) {
          throw new IOException("lone CR in line: " + printable(sb.toString()));
        }
        return sb.toString();
      }
      sb.append(c);
      if (sb.length() > 64 * 1024) {
        throw new IOException("line longer than 64 KiB");
      }
    }
  }

  private boolean fill() throws IOException {
    int n = in.read(buf, 0, buf.length);
    if (n < 0) {
      return false;
    }
    pos = 0;
    lim = n;
    return true;
  }

  static String printable(String s) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c >= 0x20 && c < 0x7f) {
        sb.append(c);
      } else {
        sb.append(String.format(Locale.ROOT, "\\x%02x", (int) c));
      }
    }
    return sb.toString();
  }
}
