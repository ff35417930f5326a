package dev.locallambdas.transport.legacy;

import dev.locallambdas.exchange.BodySource;
import dev.locallambdas.exchange.Headers;
import dev.locallambdas.exchange.HttpSyntax;
import dev.locallambdas.transport.TransportException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * One blocking HTTP/1.1 client connection (TCP or Unix domain) to a child's server. It writes a
 * request, parses the response head strictly and hands out the body piece by piece through {@link
 * Http1Response}. Used by one thread at a time; the pool in {@link Http1Client} moves it between
 * requests.
 */
final class Http1Connection implements AutoCloseable {
  static final int MAX_HEAD_BYTES = 64 * 1024;
  private static final int MAX_CHUNK_LINE_BYTES = 8 * 1024;
  private static final byte[] CRLF = {'\r', '\n'};
  private static final byte[] LAST_CHUNK = "0\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

  private final SocketChannel channel;
  private final String peer;
  private final ByteBuffer in = ByteBuffer.allocate(32 * 1024).flip();
  private int lineBudget;
  private int lineLimit;
  private boolean responseStarted;

  private Http1Connection(SocketChannel channel, String peer) {
    this.channel = channel;
    this.peer = peer;
  }

  /** Connects; a refused or failed connect is NOT_DELIVERED (the child never saw the request). */
  static Http1Connection open(SocketAddress address, String peer) throws IOException {
    SocketChannel channel;
    try {
      channel = SocketChannel.open(address);
    } catch (ClosedByInterruptException e) {
      throw interrupted(e);
    } catch (IOException e) {
      throw new TransportException(
          TransportException.Kind.NOT_DELIVERED,
          "cannot connect to " + peer + ": " + e.getMessage(),
          e);
    }
    if (address instanceof InetSocketAddress) {
      channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
    }
    return new Http1Connection(channel, peer);
  }

  String peer() {
    return peer;
  }

  /**
   * True when an idle connection can carry another request: the peer has neither closed it nor sent
   * anything unasked. Checked before reuse so that a connection the child closed while idle is not
   * handed a request.
   */
  boolean stillUsable() {
    if (!channel.isOpen() || in.hasRemaining()) {
      return false;
    }
    try {
      channel.configureBlocking(false);
      in.clear();
      int n = channel.read(in);
      in.flip();
      channel.configureBlocking(true);
      return n == 0;
    } catch (IOException e) {
      return false;
    }
  }

  /**
   * Writes the request head and body. Content-Length frames a body of known length, chunked framing
   * one of unknown length. Exceptions of the body source pass through unchanged. When the head
   * could not be written at all the failure is NOT_DELIVERED and the body source is untouched, so
   * the caller may retry on another connection.
   */
  void writeRequest(String method, String target, Headers headers, String host, BodySource body)
      throws IOException {
    responseStarted = false;
    long declared = body.length();
    boolean chunked = declared < 0;
    if (!HttpSyntax.isToken(method)) {
      throw new IllegalArgumentException(
          "invalid request method '" + HttpSyntax.printable(method) + "'");
    }
    if (target.isEmpty() || target.chars().anyMatch(c -> c <= ' ' || c == 0x7f)) {
      throw new IllegalArgumentException(
          "request target '"
              + HttpSyntax.printable(target)
              + "' is empty or has a space or control");
    }
    ByteArrayOutputStream head = new ByteArrayOutputStream(256);
    appendText(head, method);
    head.write(' ');
    appendText(head, target);
    head.writeBytes(" HTTP/1.1\r\n".getBytes(StandardCharsets.US_ASCII));
    boolean hasHost = false;
    Headers forwarded = HttpSyntax.endToEnd(headers);
    for (int i = 0; i < forwarded.size(); i++) {
      String name = forwarded.name(i);
      hasHost |= name.equals("host");
      appendField(head, name, forwarded.value(i));
    }
    if (!hasHost) {
      appendField(head, "host", host);
    }
    if (chunked) {
      appendField(head, "transfer-encoding", "chunked");
    } else if (declared > 0 || !bodylessMethod(method)) {
      appendField(head, "content-length", Long.toString(declared));
    }
    head.write('\r');
    head.write('\n');

    long written;
    try {
      written = writeFully(ByteBuffer.wrap(head.toByteArray()));
    } catch (IOException e) {
      throw writeFailure(e, 0);
    }
    if (declared == 0) {
      return;
    }
    long sent = 0;
    while (true) {
      ByteBuffer chunk = body.next();
      if (chunk == null) {
        break;
      }
      int n = chunk.remaining();
      if (n == 0) {
        continue;
      }
      sent += n;
      if (!chunked && sent > declared) {
        throw new IOException("request body is longer than its declared " + declared + " bytes");
      }
      try {
        if (chunked) {
          byte[] size = (Long.toHexString(n) + "\r\n").getBytes(StandardCharsets.US_ASCII);
          written += writeFully(ByteBuffer.wrap(size), chunk, ByteBuffer.wrap(CRLF));
        } else {
          written += writeFully(chunk);
        }
      } catch (IOException e) {
        throw writeFailure(e, written);
      }
    }
    if (!chunked && sent != declared) {
      throw new IOException(
          "request body ended after " + sent + " of its declared " + declared + " bytes");
    }
    if (chunked) {
      try {
        writeFully(ByteBuffer.wrap(LAST_CHUNK));
      } catch (IOException e) {
        throw writeFailure(e, written);
      }
    }
  }

  private static boolean bodylessMethod(String method) {
    return switch (method) {
      case "GET", "HEAD", "DELETE", "OPTIONS", "TRACE", "CONNECT" -> true;
      default -> false;
    };
  }

  private long writeFully(ByteBuffer... buffers) throws IOException {
    long total = 0;
    ByteBuffer last = buffers[buffers.length - 1];
    while (last.hasRemaining()) {
      total += channel.write(buffers);
    }
    return total;
  }

  private IOException writeFailure(IOException e, long written) {
    if (e instanceof ClosedByInterruptException) {
      return interrupted(e);
    }
    if (written == 0) {
      return new TransportException(
          TransportException.Kind.NOT_DELIVERED,
          peer + " closed the connection before the request was sent: " + e.getMessage(),
          e);
    }
    return new TransportException(
        TransportException.Kind.CHILD_FAILED,
        peer + " closed the connection while the request was being sent: " + e.getMessage(),
        e);
  }

  /**
   * Reads the response head, skipping interim 1xx responses. {@code bodyless} is true for answers
   * to HEAD, whose framing fields describe a body that is not sent.
   */
  Http1Response.Head readHead(boolean bodyless) throws IOException {
    limitLines(MAX_HEAD_BYTES);
    while (true) {
      String statusLine = readLine("response head");
      boolean http10;
      if (statusLine.startsWith("HTTP/1.1 ")) {
        http10 = false;
      } else if (statusLine.startsWith("HTTP/1.0 ")) {
        http10 = true;
      } else {
        throw protocol("sent an invalid status line '" + HttpSyntax.printable(statusLine) + "'");
      }
      int status = parseStatus(statusLine);
      Headers headers = readFields("response head");
      if (status == 101) {
        throw protocol("switched protocols (101), which a proxied request never asks for");
      }
      if (status < 200) {
        continue;
      }
      return frame(status, headers, http10, bodyless);
    }
  }

  private int parseStatus(String line) throws TransportException {
    // "HTTP/1.1 " is 9 characters, then three digits, then nothing or a space and a reason.
    if (line.length() < 12
        || !Character.isDigit(line.charAt(9))
        || !Character.isDigit(line.charAt(10))
        || !Character.isDigit(line.charAt(11))
        || line.length() > 12 && line.charAt(12) != ' ') {
      throw protocol("sent an invalid status line '" + HttpSyntax.printable(line) + "'");
    }
    int status = Integer.parseInt(line.substring(9, 12));
    if (status < 100 || status > 599) {
      throw protocol("sent status " + status + ", outside 100-599");
    }
    if (!HttpSyntax.isValidValue(line.substring(12))) {
      throw protocol("sent a control character in the reason phrase");
    }
    return status;
  }

  private Headers readFields(String where) throws IOException {
    Headers.Builder b = Headers.builder();
    while (true) {
      String line = readLine(where);
      if (line.isEmpty()) {
        return b.build();
      }
      char first = line.charAt(0);
      if (first == ' ' || first == '\t') {
        throw protocol("sent a folded header line (obs-fold) in the " + where);
      }
      int colon = line.indexOf(':');
      if (colon <= 0) {
        throw protocol(
            "sent a header line without a name and ':' '" + HttpSyntax.printable(line) + "'");
      }
      String name = line.substring(0, colon);
      if (!HttpSyntax.isToken(name)) {
        throw protocol("sent a header with an invalid name '" + HttpSyntax.printable(name) + "'");
      }
      String value = stripOws(line.substring(colon + 1));
      if (!HttpSyntax.isValidValue(value)) {
        throw protocol("sent header '" + name + "' with a control character in its value");
      }
      b.add(name, value);
    }
  }

  private Http1Response.Head frame(int status, Headers headers, boolean http10, boolean bodyless)
      throws TransportException {
    List<String> codings = listValues(headers, "transfer-encoding");
    List<String> lengths = listValues(headers, "content-length");
    boolean chunked = false;
    if (!codings.isEmpty()) {
      if (http10 || codings.size() != 1 || !codings.get(0).equalsIgnoreCase("chunked")) {
        throw protocol(
            "sent Transfer-Encoding '"
                + String.join(", ", codings)
                + "'; only chunked is supported");
      }
      if (!lengths.isEmpty()) {
        throw protocol("sent both Transfer-Encoding and Content-Length");
      }
      chunked = true;
    }
    long length = -1;
    for (String l : lengths) {
      long v = parseLength(l);
      if (length >= 0 && v != length) {
        throw protocol("sent conflicting Content-Length values " + String.join(", ", lengths));
      }
      length = v;
    }
    boolean keepAlive =
        http10
            ? HttpSyntax.hasOption(headers, "connection", "keep-alive")
            : !HttpSyntax.hasOption(headers, "connection", "close");
    Http1Response.Framing framing;
    if (bodyless || status == 204 || status == 304) {
      framing = Http1Response.Framing.NONE;
    } else if (chunked) {
      framing = Http1Response.Framing.CHUNKED;
    } else if (length >= 0) {
      framing = Http1Response.Framing.LENGTH;
    } else {
      framing = Http1Response.Framing.UNTIL_CLOSE;
      keepAlive = false;
    }
    return new Http1Response.Head(status, headers, framing, length, keepAlive);
  }

  private long parseLength(String value) throws TransportException {
    if (value.isEmpty() || value.length() > 18) {
      throw protocol("sent an invalid Content-Length '" + HttpSyntax.printable(value) + "'");
    }
    for (int i = 0; i < value.length(); i++) {
      if (value.charAt(i) < '0' || value.charAt(i) > '9') {
        throw protocol("sent an invalid Content-Length '" + HttpSyntax.printable(value) + "'");
      }
    }
    return Long.parseLong(value);
  }

  private static List<String> listValues(Headers headers, String name) {
    List<String> out = new ArrayList<>();
    for (String v : headers.all(name)) {
      for (String part : v.split(",", -1)) {
        out.add(part.strip());
      }
    }
    return out;
  }

  private static String stripOws(String s) {
    int start = 0;
    int end = s.length();
    while (start < end && (s.charAt(start) == ' ' || s.charAt(start) == '\t')) {
      start++;
    }
    while (end > start && (s.charAt(end - 1) == ' ' || s.charAt(end - 1) == '\t')) {
      end--;
    }
    return s.substring(start, end);
  }

  /** The size of the next chunk, from a strict chunk-size line (extensions are ignored). */
  long readChunkSize() throws IOException {
    limitLines(MAX_CHUNK_LINE_BYTES);
    String line = readLine("chunk size line");
    int i = 0;
    long size = 0;
    while (i < line.length() && Character.digit(line.charAt(i), 16) >= 0) {
      if (i == 15) {
        throw protocol("sent a chunk size that is too large '" + HttpSyntax.printable(line) + "'");
      }
      size = size * 16 + Character.digit(line.charAt(i), 16);
      i++;
    }
    if (i == 0) {
      throw protocol("sent an invalid chunk size line '" + HttpSyntax.printable(line) + "'");
    }
    String rest = stripOws(line.substring(i));
    if (!rest.isEmpty() && (rest.charAt(0) != ';' || !HttpSyntax.isValidValue(rest))) {
      throw protocol("sent an invalid chunk size line '" + HttpSyntax.printable(line) + "'");
    }
    return size;
  }

  /** The CRLF that ends a chunk's data. */
  void readChunkEnd() throws IOException {
    limitLines(2);
    if (!readLine("chunk").isEmpty()) {
      throw protocol("sent chunk data longer than its chunk size");
    }
  }

  /** Reads and discards the trailer section after the last chunk, validating it like a head. */
  void readTrailers() throws IOException {
    limitLines(MAX_HEAD_BYTES);
    readFields("trailer section");
  }

  /**
   * The next bytes of the body, at most {@code max}, as a view valid until the next read, or null
   * when the peer closed the connection.
   */
  ByteBuffer readSome(long max) throws IOException {
    if (!in.hasRemaining() && fill() < 0) {
      return null;
    }
    int n = (int) Math.min(max, in.remaining());
    ByteBuffer slice = in.slice(in.position(), n);
    in.position(in.position() + n);
    return slice;
  }

  private void limitLines(int bytes) {
    lineBudget = bytes;
    lineLimit = bytes;
  }

  private String readLine(String where) throws IOException {
    StringBuilder sb = new StringBuilder(64);
    while (true) {
      if (!in.hasRemaining() && fill() < 0) {
        throw new TransportException(
            TransportException.Kind.CHILD_FAILED,
            peer + " closed the connection in the middle of the " + where);
      }
      responseStarted = true;
      byte b = in.get();
      if (--lineBudget < 0) {
        throw protocol("sent a " + where + " longer than the limit of " + lineLimit + " bytes");
      }
      if (b == '\n') {
        int last = sb.length() - 1;
        if (last >= 0 && sb.charAt(last) == '\r') {
          sb.setLength(last);
        }
        if (sb.indexOf("\r") >= 0) {
          throw protocol("sent a bare CR in the " + where);
        }
        return sb.toString();
      }
      sb.append((char) (b & 0xff));
    }
  }

  private int fill() throws IOException {
    in.compact();
    try {
      int n = channel.read(in);
      return n;
    } catch (ClosedByInterruptException e) {
      throw interrupted(e);
    } catch (AsynchronousCloseException e) {
      throw new TransportException(
          TransportException.Kind.CHILD_FAILED, "the connection to " + peer + " was closed", e);
    } catch (IOException e) {
      throw new TransportException(
          TransportException.Kind.CHILD_FAILED,
          "reading from " + peer + " failed: " + e.getMessage(),
          e);
    } finally {
      in.flip();
    }
  }

  /** True once any byte of a response arrived on this connection since the last request. */
  boolean responseStarted() {
    return responseStarted;
  }

  TransportException protocol(String what) {
    return new TransportException(TransportException.Kind.PROTOCOL, peer + " " + what);
  }

  private static InterruptedIOException interrupted(IOException cause) {
    InterruptedIOException e = new InterruptedIOException("interrupted while talking to the child");
    e.initCause(cause);
    return e;
  }

  private static void appendField(ByteArrayOutputStream out, String name, String value) {
    if (!HttpSyntax.isToken(name) || !HttpSyntax.isValidValue(value)) {
      throw new IllegalArgumentException(
          "request header '" + HttpSyntax.printable(name) + "' is not valid HTTP");
    }
    appendText(out, name.toLowerCase(Locale.ROOT));
    out.write(':');
    out.write(' ');
    appendText(out, value);
    out.write('\r');
    out.write('\n');
  }

  /**
   * Field text travels as ISO-8859-1 (one byte per char, as Netty decodes it); wider text as UTF-8.
   */
  private static void appendText(ByteArrayOutputStream out, String s) {
    boolean wide = false;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '\r' || c == '\n' || c == 0) {
        throw new IllegalArgumentException("request line or header contains CR, LF or NUL");
      }
      wide |= c > 0xff;
    }
    out.writeBytes(s.getBytes(wide ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1));
  }

  @Override
  public void close() {
    try {
      channel.close();
    } catch (IOException e) {
      // Closing a socket only fails when it is already broken; nothing is left to release.
    }
  }
}
