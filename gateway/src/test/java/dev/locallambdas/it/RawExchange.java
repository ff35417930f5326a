package dev.locallambdas.it;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * One request over a raw socket (with Connection: close), and everything the gateway sends back
 * until it closes the connection: the head parsed, the rest kept as raw bytes. For tests about
 * responses that are cut short, which an HTTP client library reports only as an exception. A
 * connection closed before a complete head has status 0.
 */
@SuppressWarnings("ArrayRecordComponent") // a test's view of bytes read, compared by content
record RawExchange(int status, Map<String, String> headers, byte[] rest, boolean reset) {
  /** How long a read may block before the test gives up: a safety net, never a measurement. */
  private static final int READ_TIMEOUT_MILLIS = 30_000;

  static RawExchange get(InetSocketAddress gateway, String path) throws IOException {
    try (Socket s = new Socket(gateway.getAddress(), gateway.getPort())) {
      s.setSoTimeout(READ_TIMEOUT_MILLIS);
      s.getOutputStream()
          .write(
              ("GET " + path + " HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
                  .getBytes(StandardCharsets.US_ASCII));
      InputStream in = s.getInputStream();
      ByteArrayOutputStream all = new ByteArrayOutputStream();
      boolean reset = false;
      byte[] buf = new byte[8192];
      try {
        for (int n = in.read(buf); n >= 0; n = in.read(buf)) {
          all.write(buf, 0, n);
        }
      } catch (SocketException e) {
        reset = true; // a connection reset is a visible abort too
      }
      return parse(all.toByteArray(), reset);
    }
  }

  private static RawExchange parse(byte[] bytes, boolean reset) {
    String text = new String(bytes, StandardCharsets.ISO_8859_1);
    int end = text.indexOf("\r\n\r\n");
    if (end < 0) {
      return new RawExchange(0, Map.of(), bytes, reset);
    }
    String[] lines = text.substring(0, end).split("\r\n", -1);
    int status = Integer.parseInt(lines[0].split(" ", 3)[1]);
    Map<String, String> headers = new LinkedHashMap<>();
    for (int i = 1; i < lines.length; i++) {
      int colon = lines[i].indexOf(':');
      headers.put(
          lines[i].substring(0, colon).toLowerCase(Locale.ROOT),
          lines[i].substring(colon + 1).strip());
    }
    byte[] rest = java.util.Arrays.copyOfRange(bytes, end + 4, bytes.length);
    return new RawExchange(status, headers, rest, reset);
  }

  /**
   * True when the client can tell the response is incomplete: no complete head, fewer body bytes
   * than the Content-Length, or a chunked body without its last chunk.
   */
  boolean cutShort() {
    if (status == 0) {
      return true;
    }
    if (headers.containsKey("content-length")) {
      return rest.length < Long.parseLong(headers.get("content-length"));
    }
    if ("chunked".equals(headers.get("transfer-encoding"))) {
      return !chunkedBodyComplete();
    }
    return false; // read until close: a cut cannot be told from the end
  }

  /** True when a chunked body ends with its last chunk (and an empty trailer section). */
  boolean chunkedBodyComplete() {
    int pos = 0;
    String s = new String(rest, StandardCharsets.ISO_8859_1);
    while (true) {
      int eol = s.indexOf("\r\n", pos);
      if (eol < 0) {
        return false;
      }
      String sizeField = s.substring(pos, eol);
      int semi = sizeField.indexOf(';');
      int size =
          Integer.parseInt((semi < 0 ? sizeField : sizeField.substring(0, semi)).strip(), 16);
      pos = eol + 2;
      if (size == 0) {
        return s.startsWith("\r\n", pos);
      }
      pos += size + 2;
      if (pos > s.length()) {
        return false;
      }
    }
  }
}
