package dev.locallambdas.bench.frontdoor;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Sends malformed or ambiguous requests to the Netty candidate (same decoder settings as the
 * benchmark) and prints what each one got: the status line, or how the connection ended. Tells
 * which checks Netty's decoder makes and which the gateway has to make itself.
 *
 * <p>Usage: {@code StrictnessProbe <port>}.
 */
public final class StrictnessProbe {
  private StrictnessProbe() {}

  public static void main(String[] args) throws Exception {
    if (args.length != 1) {
      throw new IllegalArgumentException("usage: StrictnessProbe <port>, got " + args.length);
    }
    int port = Integer.parseInt(args[0]);
    Map<String, String> cases = new LinkedHashMap<>();
    cases.put("well-formed", "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    cases.put("HTTP/1.1 without Host", "GET / HTTP/1.1\r\n\r\n");
    cases.put("two Host headers", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n");
    cases.put("bare LF line ends", "GET / HTTP/1.1\nHost: a\n\n");
    cases.put(
        "Content-Length and Transfer-Encoding",
        "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
    cases.put(
        "two different Content-Length",
        "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab");
    cases.put(
        "Content-Length: +1", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +1\r\n\r\na");
    cases.put(
        "Transfer-Encoding: gzip, chunked",
        "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n");
    cases.put(
        "Transfer-Encoding: chunked, gzip",
        "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n");
    cases.put(
        "Transfer-Encoding: xchunked",
        "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n");
    cases.put("space before colon", "GET / HTTP/1.1\r\nHost : a\r\n\r\n");
    cases.put("obs-fold continuation", "GET / HTTP/1.1\r\nHost: a\r\nX-A: b\r\n c\r\n\r\n");
    cases.put("NUL in header value", "GET / HTTP/1.1\r\nHost: a\r\nX-A: b\0c\r\n\r\n");
    cases.put("method with bad char", "G(T / HTTP/1.1\r\nHost: a\r\n\r\n");
    cases.put("unknown method token", "BREW / HTTP/1.1\r\nHost: a\r\n\r\n");
    cases.put("version HTTP/9.9", "GET / HTTP/9.9\r\nHost: a\r\n\r\n");
    cases.put("dot-dot in path", "GET /a/../../etc/passwd HTTP/1.1\r\nHost: a\r\n\r\n");
    cases.put("absolute-form target", "GET http://evil/x HTTP/1.1\r\nHost: a\r\n\r\n");
    cases.put("asterisk-form target", "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n");
    cases.put("raw space in target", "GET /a b HTTP/1.1\r\nHost: a\r\n\r\n");
    cases.put("request line over 8192", "GET /" + "a".repeat(9000) + " HTTP/1.1\r\nHost: a\r\n\r\n");
    cases.put(
        "headers over 16384",
        "GET / HTTP/1.1\r\nHost: a\r\nX-A: " + "a".repeat(17000) + "\r\n\r\n");
    for (Map.Entry<String, String> c : cases.entrySet()) {
      System.out.printf("| %s | %s |%n", c.getKey(), send(port, c.getValue()));
    }
  }

  private static String send(int port, String request) throws IOException {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress(Hello.HOST, port), 2000);
      socket.setSoTimeout(2000);
      socket.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
      socket.getOutputStream().flush();
      InputStream in = socket.getInputStream();
      ByteArrayOutputStream line = new ByteArrayOutputStream();
      try {
        for (int b = in.read(); b != -1 && b != '\r' && b != '\n'; b = in.read()) {
          line.write(b);
        }
      } catch (SocketTimeoutException e) {
        return line.size() == 0 ? "no answer within 2 s" : line.toString(StandardCharsets.ISO_8859_1);
      } catch (IOException e) {
        return "connection reset";
      }
      return line.size() == 0 ? "closed without answer" : line.toString(StandardCharsets.ISO_8859_1);
    }
  }
}
