package dev.locallambdas.it;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * A minimal HTTP/1.1 client on one keep-alive raw socket, for load tests that must see exactly what
 * the gateway did: unlike a client library it never retries, so a response the gateway did not give
 * (a connection closed or reset before a complete response) is reported as an IOException. Every
 * read has a client-side timeout. Reconnects after a response that closed the connection.
 */
final class KeepAliveClient implements AutoCloseable {
  record Answer(int status, String contentType, String body) {}

  private final InetSocketAddress address;
  private final int timeoutMillis;
  private Socket socket;
  private InputStream in;
  private OutputStream out;

  KeepAliveClient(InetSocketAddress address, int timeoutMillis) {
    this.address = address;
    this.timeoutMillis = timeoutMillis;
  }

  Answer get(String path) throws IOException {
    if (socket == null) {
      socket = new Socket(address.getAddress(), address.getPort());
      socket.setSoTimeout(timeoutMillis);
      socket.setTcpNoDelay(true);
      in = new BufferedInputStream(socket.getInputStream(), 16 * 1024);
      out = socket.getOutputStream();
    }
    try {
      out.write(
          ("GET " + path + " HTTP/1.1\r\nHost: load\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      String statusLine = line();
      if (!statusLine.startsWith("HTTP/1.1 ")) {
        throw new IOException("bad status line '" + statusLine + "'");
      }
      int status = Integer.parseInt(statusLine.substring(9, 12));
      long length = -1;
      boolean chunked = false;
      boolean close = false;
      String contentType = null;
      for (String h = line(); !h.isEmpty(); h = line()) {
        int colon = h.indexOf(':');
        String name = h.substring(0, colon).toLowerCase(Locale.ROOT);
        String value = h.substring(colon + 1).strip();
        switch (name) {
          case "content-length" -> length = Long.parseLong(value);
          case "transfer-encoding" -> chunked = value.equalsIgnoreCase("chunked");
          case "connection" -> close = value.equalsIgnoreCase("close");
          case "content-type" -> contentType = value;
          default -> {}
        }
      }
      ByteArrayOutputStream body = new ByteArrayOutputStream();
      if (chunked) {
        for (int size = chunkSize(); size > 0; size = chunkSize()) {
          body.write(in.readNBytes(size));
          if (!line().isEmpty()) {
            throw new IOException("chunk longer than declared");
          }
        }
        while (!line().isEmpty()) {
          // trailer fields
        }
      } else if (length >= 0) {
        byte[] b = in.readNBytes((int) length);
        if (b.length < length) {
          throw new EOFException("body cut after " + b.length + " of " + length + " bytes");
        }
        body.write(b);
      } else {
        throw new IOException("response without a length");
      }
      if (close) {
        close();
      }
      return new Answer(status, contentType, body.toString(StandardCharsets.UTF_8));
    } catch (IOException | RuntimeException e) {
      close();
      throw e;
    }
  }

  private int chunkSize() throws IOException {
    String l = line();
    int semi = l.indexOf(';');
    return Integer.parseInt((semi < 0 ? l : l.substring(0, semi)).strip(), 16);
  }

  private String line() throws IOException {
    StringBuilder sb = new StringBuilder();
    while (true) {
      int c = in.read();
      if (c < 0) {
        throw new EOFException("connection closed after '" + sb + "'");
      }
      if (c == '\n') {
        int last = sb.length() - 1;
        if (last >= 0 && sb.charAt(last) == '\r') {
          sb.setLength(last);
        }
        return sb.toString();
      }
      sb.append((char) c);
    }
  }

  @Override
  public void close() {
    if (socket != null) {
      try {
        socket.close();
      } catch (IOException e) {
        // already broken: nothing to release
      }
      socket = null;
    }
  }
}
