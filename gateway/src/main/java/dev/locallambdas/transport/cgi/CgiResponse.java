package dev.locallambdas.transport.cgi;

import dev.locallambdas.exchange.Headers;
import dev.locallambdas.exchange.HttpSyntax;
import dev.locallambdas.exchange.ResponseSink;
import dev.locallambdas.transport.TransportException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.function.Supplier;

/**
 * Reads a CGI response (RFC 3875 section 6) from a program's stdout and relays it: the header lines
 * up to the blank line (LF or CRLF), {@code Status} giving the status (200 by default, 302 for a
 * {@code Location} without one), the rest as response fields, then the body as it comes.
 */
final class CgiResponse {
  /** Header block bytes read before the program is considered broken. */
  static final int MAX_HEAD = 64 * 1024;

  private CgiResponse() {}

  static void relay(InputStream stdout, ResponseSink sink, Supplier<TransportException> broken)
      throws IOException {
    ByteArrayOutputStream line = new ByteArrayOutputStream();
    Headers.Builder headers = Headers.builder();
    int status = -1;
    boolean location = false;
    int read = 0;
    while (true) {
      int c = stdout.read();
      if (c < 0 || ++read > MAX_HEAD) {
        throw broken.get();
      }
      if (c != '\n') {
        line.write(c);
        continue;
      }
      String text = line.toString(StandardCharsets.ISO_8859_1);
      line.reset();
      if (text.endsWith("\r")) {
        text = text.substring(0, text.length() - 1);
      }
      if (text.isEmpty()) {
        break;
      }
      int colon = text.indexOf(':');
      if (colon <= 0) {
        throw new TransportException(
            TransportException.Kind.RESET,
            "the CGI program sent a header line without a colon: '"
                + HttpSyntax.printable(text)
                + "'");
      }
      String name = text.substring(0, colon).strip().toLowerCase(Locale.ROOT);
      String value = text.substring(colon + 1).strip();
      if (name.equals("status")) {
        status = status(value);
      } else {
        location |= name.equals("location");
        headers.add(name, value);
      }
    }
    Headers built = headers.build();
    String invalid = HttpSyntax.invalidField(built);
    if (invalid != null) {
      throw new TransportException(
          TransportException.Kind.RESET, "the CGI program sent " + invalid);
    }
    if (status < 0) {
      status = location ? 302 : 200;
    }
    sink.head(status, HttpSyntax.endToEnd(built), -1);
    byte[] buffer = new byte[16 * 1024];
    int n;
    while ((n = stdout.read(buffer)) >= 0) {
      if (n > 0) {
        sink.body(ByteBuffer.wrap(buffer, 0, n));
      }
    }
    sink.end();
  }

  private static int status(String value) throws TransportException {
    String code = value.length() >= 3 ? value.substring(0, 3) : value;
    try {
      int s = Integer.parseInt(code);
      if (HttpSyntax.isValidFinalStatus(s)) {
        return s;
      }
    } catch (NumberFormatException e) {
      // refused below
    }
    throw new TransportException(
        TransportException.Kind.RESET,
        "the CGI program sent 'Status: " + HttpSyntax.printable(value) + "', not a status code");
  }
}
