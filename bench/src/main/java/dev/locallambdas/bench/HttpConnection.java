package dev.locallambdas.bench;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * A lean HTTP/1.1 client connection with keep-alive: one per load worker, used by one thread at a
 * time. It writes a prepared request and reads the response into a reused buffer, checking the body
 * against an expected one when asked, so the client costs little per request (docs/ benchmarks.md
 * compares it with wrk against nginx). Understands Content-Length and chunked bodies; reconnects
 * after a response that closes the connection.
 */
final class HttpConnection implements Closeable {
  private static final int BUFFER = 64 * 1024;
  private static final int LARGE_BODY = 32 * 1024;

  /** CPU time of the threads that wrote large request bodies (added to the client's CPU). */
  static final java.util.concurrent.atomic.LongAdder WRITER_CPU =
      new java.util.concurrent.atomic.LongAdder();

  private static final java.lang.management.ThreadMXBean THREADS =
      java.lang.management.ManagementFactory.getThreadMXBean();

  private final InetSocketAddress address;
  private final byte[] buf = new byte[BUFFER];
  private int pos;
  private int limit;
  private Socket socket;
  private InputStream in;
  private OutputStream out;

  HttpConnection(InetSocketAddress address) {
    this.address = address;
  }

  /** What came back: status, body size, whether it matched the expected body, X-Cache. */
  record Response(int status, long bodyBytes, boolean bodyMatches, String xCache) {}

  /** A request prepared once and sent many times. */
  static byte[] requestHead(String method, String target, InetSocketAddress host, long bodyLength) {
    StringBuilder sb = new StringBuilder(128);
    sb.append(method)
        .append(' ')
        .append(target)
        .append(" HTTP/1.1\r\nHost: ")
        .append(host.getHostString())
        .append(':')
        .append(host.getPort())
        .append("\r\n");
    if (bodyLength >= 0) {
      sb.append("Content-Type: application/octet-stream\r\nContent-Length: ")
          .append(bodyLength)
          .append("\r\n");
    }
    sb.append("\r\n");
    return sb.toString().getBytes(StandardCharsets.US_ASCII);
  }

  /**
   * Sends {@code head} and {@code body} (may be null) and reads the whole response. With {@code
   * expected} non-null every body byte is compared with it.
   */
  Response exchange(byte[] head, byte[] body, byte[] expected) throws IOException {
    if (socket == null) {
      connect();
    }
    Thread writer = null;
    IOException[] writeFailure = new IOException[1];
    if (body != null && body.length > LARGE_BODY) {
      // Write a large body on its own thread: a streaming echo answers while the upload is still
      // going, and a client that only reads after writing everything could deadlock with it.
      out.write(head);
      // A platform thread so that its CPU time can be counted as the client's.
      writer =
          Thread.ofPlatform()
              .daemon()
              .name("bench-body-writer")
              .start(
                  () -> {
                    try {
                      out.write(body);
                      out.flush();
                    } catch (IOException e) {
                      writeFailure[0] = e;
                    } finally {
                      WRITER_CPU.add(THREADS.getCurrentThreadCpuTime());
                    }
                  });
    } else {
      if (body == null) {
        out.write(head);
      } else {
        byte[] all = new byte[head.length + body.length];
        System.arraycopy(head, 0, all, 0, head.length);
        System.arraycopy(body, 0, all, head.length, body.length);
        out.write(all);
      }
      out.flush();
    }
    try {
      Response r = readResponse(expected);
      if (writer != null) {
        writer.join();
        if (writeFailure[0] != null) {
          throw writeFailure[0];
        }
      }
      return r;
    } catch (IOException | RuntimeException e) {
      close();
      throw e;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      close();
      throw new IOException("interrupted", e);
    }
  }

  private void connect() throws IOException {
    Socket s = new Socket();
    s.setTcpNoDelay(true);
    s.connect(address, 10_000);
    socket = s;
    in = s.getInputStream();
    out = s.getOutputStream();
    pos = 0;
    limit = 0;
  }

  private Response readResponse(byte[] expected) throws IOException {
    int headEnd = findHeadEnd();
    int status = parseInt(buf, pos + 9, pos + 12);
    long contentLength = -1;
    boolean chunked = false;
    boolean close = false;
    String xCache = null;
    int line = indexOfCrlf(pos, headEnd) + 2;
    while (line < headEnd) {
      int eol = indexOfCrlf(line, headEnd + 2);
      int colon = line;
      while (colon < eol && buf[colon] != ':') {
        colon++;
      }
      int vs = colon + 1;
      while (vs < eol && buf[vs] == ' ') {
        vs++;
      }
      if (nameIs(line, colon, "content-length")) {
        contentLength = parseInt(buf, vs, eol);
      } else if (nameIs(line, colon, "transfer-encoding")) {
        chunked =
            new String(buf, vs, eol - vs, StandardCharsets.US_ASCII)
                .toLowerCase(java.util.Locale.ROOT)
                .contains("chunked");
      } else if (nameIs(line, colon, "connection")) {
        close = new String(buf, vs, eol - vs, StandardCharsets.US_ASCII).equalsIgnoreCase("close");
      } else if (nameIs(line, colon, "x-cache")) {
        xCache = new String(buf, vs, eol - vs, StandardCharsets.US_ASCII);
      }
      line = eol + 2;
    }
    pos = headEnd + 4;
    long[] offset = {0};
    boolean[] matches = {true};
    if (chunked) {
      while (true) {
        int eol = lineEnd();
        int sizeEnd = pos;
        while (sizeEnd < eol && buf[sizeEnd] != ';') {
          sizeEnd++;
        }
        long size =
            Long.parseLong(
                new String(buf, pos, sizeEnd - pos, StandardCharsets.US_ASCII).trim(), 16);
        pos = eol + 2;
        if (size == 0) {
          while (lineEnd() != pos) { // trailers until the empty line
            pos = lineEnd() + 2;
          }
          pos += 2;
          break;
        }
        readBody(size, expected, offset, matches);
        lineEnd();
        pos += 2;
      }
    } else if (contentLength >= 0) {
      readBody(contentLength, expected, offset, matches);
    } else if (status != 204 && status != 304 && status >= 200) {
      throw new IOException("response without Content-Length or chunked encoding");
    }
    if (expected != null && offset[0] != expected.length) {
      matches[0] = false;
    }
    if (close) {
      close();
    }
    return new Response(status, offset[0], matches[0], xCache);
  }

  private void readBody(long n, byte[] expected, long[] offset, boolean[] matches)
      throws IOException {
    while (n > 0) {
      if (pos == limit) {
        pos = 0;
        limit = 0;
        fill();
      }
      int take = (int) Math.min(n, limit - pos);
      if (expected != null && matches[0]) {
        long at = offset[0];
        if (at + take > expected.length
            || !java.util.Arrays.equals(
                buf, pos, pos + take, expected, (int) at, (int) at + take)) {
          matches[0] = false;
        }
      }
      offset[0] += take;
      pos += take;
      n -= take;
    }
  }

  private int findHeadEnd() throws IOException {
    int scanned = 0; // relative to pos, which compaction moves
    while (true) {
      for (int i = pos + scanned; i + 3 < limit; i++) {
        if (buf[i] == '\r' && buf[i + 1] == '\n' && buf[i + 2] == '\r' && buf[i + 3] == '\n') {
          return i;
        }
      }
      scanned = Math.max(0, limit - 3 - pos);
      compactAndFill();
    }
  }

  /** Index of the next CRLF at or after pos, reading more when needed. */
  private int lineEnd() throws IOException {
    while (true) {
      for (int i = pos; i + 1 < limit; i++) {
        if (buf[i] == '\r' && buf[i + 1] == '\n') {
          return i;
        }
      }
      compactAndFill();
    }
  }

  private void compactAndFill() throws IOException {
    if (pos > 0) {
      System.arraycopy(buf, pos, buf, 0, limit - pos);
      limit -= pos;
      pos = 0;
    }
    if (limit == buf.length) {
      throw new IOException("response head larger than " + buf.length + " bytes");
    }
    fill();
  }

  private void fill() throws IOException {
    int n = in.read(buf, limit, buf.length - limit);
    if (n < 0) {
      throw new IOException("connection closed by the server");
    }
    limit += n;
  }

  private int indexOfCrlf(int from, int to) {
    for (int i = from; i + 1 < to + 2 && i + 1 < limit; i++) {
      if (buf[i] == '\r' && buf[i + 1] == '\n') {
        return i;
      }
    }
    return to;
  }

  private boolean nameIs(int from, int to, String lower) {
    if (to - from != lower.length()) {
      return false;
    }
    for (int i = 0; i < lower.length(); i++) {
      if (Character.toLowerCase((char) buf[from + i]) != lower.charAt(i)) {
        return false;
      }
    }
    return true;
  }

  private static int parseInt(byte[] b, int from, int to) {
    int v = 0;
    for (int i = from; i < to; i++) {
      byte c = b[i];
      if (c >= '0' && c <= '9') {
        v = v * 10 + (c - '0');
      } else if (c != ' ') {
        break;
      }
    }
    return v;
  }

  @Override
  public void close() {
    if (socket != null) {
      try {
        socket.close();
      } catch (IOException e) {
        // closing a benchmark connection: nothing left to do with it
      }
      socket = null;
    }
  }
}
