package dev.locallambdas.frontdoor;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpRequestDecoder;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ByteProcessor;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Netty's request decoder plus the checks it is lenient about. Netty splits the request line on any
 * run of blanks (tabs included), upper-cases the HTTP-name ("http/1.1" passes) and reads
 * "HTTP/01.1" as 1.1; and it joins obs-fold continuation lines into the previous field instead of
 * refusing them. This decoder walks the bytes of each request head once more, as Netty consumes
 * them, and marks the request as failed (a 400, then close) when:
 *
 * <ul>
 *   <li>the request line is not exactly {@code method SP target SP HTTP/d.d CRLF}, with a token for
 *       the method and no control byte or space in the target;
 *   <li>a header line starts with a space or a tab (obs-fold, RFC 9112 section 5.2, or whitespace
 *       before the first field, section 2.2);
 *   <li>a line ends in a bare LF, or a CR is not followed by LF (Netty's strict line parsing
 *       refuses these too; checking here costs nothing).
 * </ul>
 *
 * <p>Empty lines (CRLF) before the request line are skipped, as RFC 9112 section 2.2 recommends.
 * Bodies are never scanned: the walk stops at the empty line that ends the head, and starts again
 * only after the request's last content.
 */
final class StrictRequestDecoder extends HttpRequestDecoder {
  // Where the walk is within a head.
  private static final int BEFORE_REQUEST_LINE = 0;
  private static final int METHOD = 1;
  private static final int TARGET = 2;
  private static final int VERSION = 3;
  private static final int LINE_START = 4; // at the start of a header line (or of the final CRLF)
  private static final int FIELD = 5; // inside a header line
  private static final int BODY = 6; // past the head: nothing is checked until the next request

  private static final boolean[] TCHAR = new boolean[128];
  private static final byte[] VERSION_SHAPE = "HTTP/0.0".getBytes(StandardCharsets.US_ASCII);

  static {
    for (char c = '0'; c <= '9'; c++) {
      TCHAR[c] = true;
    }
    for (char c = 'a'; c <= 'z'; c++) {
      TCHAR[c] = true;
      TCHAR[c - 32] = true;
    }
    for (char c : "!#$%&'*+-.^_`|~".toCharArray()) {
      TCHAR[c] = true;
    }
  }

  private int where = BEFORE_REQUEST_LINE;
  private int partLength; // bytes of the current request-line part
  private boolean afterCr;
  private String violation;
  private final ByteProcessor walker = this::visit;

  StrictRequestDecoder(HttpDecoderConfig config) {
    super(config);
  }

  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf buffer, List<Object> out)
      throws Exception {
    int from = buffer.readerIndex();
    int before = out.size();
    super.decode(ctx, buffer, out);
    if (where != BODY) {
      walk(buffer, from, buffer.readerIndex());
    }
    for (int i = before, n = out.size(); i < n; i++) {
      Object msg = out.get(i);
      if (msg instanceof HttpRequest request) {
        if (violation != null && request.decoderResult().isSuccess()) {
          request.setDecoderResult(DecoderResult.failure(new IllegalArgumentException(violation)));
        }
        where = BODY;
      }
      if (msg instanceof LastHttpContent) {
        where = BEFORE_REQUEST_LINE;
        violation = null;
        afterCr = false;
        partLength = 0;
      }
    }
  }

  private void walk(ByteBuf buffer, int from, int to) {
    if (to > from && violation == null) {
      buffer.forEachByte(from, to - from, walker);
    }
  }

  private boolean visit(byte b) {
    step(b & 0xff);
    return where != BODY && violation == null;
  }

  private void step(int b) {
    if (afterCr) {
      afterCr = false;
      if (b != '\n') {
        violation = "a CR that is not followed by LF";
        return;
      }
      endOfLine();
      return;
    }
    if (b == '\r') {
      afterCr = true;
      return;
    }
    if (b == '\n') {
      violation = "a line ending in a bare LF (lines must end in CRLF)";
      return;
    }
    switch (where) {
      case BEFORE_REQUEST_LINE -> {
        where = METHOD;
        partLength = 0;
        step(b);
      }
      case METHOD -> {
        if (b == ' ' && partLength > 0) {
          where = TARGET;
          partLength = 0;
        } else if (b < 128 && TCHAR[b]) {
          partLength++;
        } else {
          violation = "a method that is not a token, or not followed by a single space";
        }
      }
      case TARGET -> {
        if (b == ' ' && partLength > 0) {
          where = VERSION;
          partLength = 0;
        } else if (b > ' ' && b != 0x7f) {
          partLength++;
        } else {
          violation = "a request target with a space or a control byte";
        }
      }
      case VERSION -> {
        byte shape = partLength < VERSION_SHAPE.length ? VERSION_SHAPE[partLength] : 0;
        boolean ok = shape == '0' ? b >= '0' && b <= '9' : shape != 0 && b == shape;
        partLength++;
        if (!ok) {
          violation = "a malformed HTTP version (it must be HTTP/DIGIT.DIGIT)";
        }
      }
      case LINE_START -> {
        if (b == ' ' || b == '\t') {
          violation =
              "a header line starting with whitespace (obs-fold line folding is not accepted)";
        } else {
          where = FIELD;
        }
      }
      default -> {
        // FIELD: Netty validates names and values.
      }
    }
  }

  private void endOfLine() {
    switch (where) {
      case BEFORE_REQUEST_LINE -> {
        // An empty line before the request line: skipped.
      }
      case VERSION -> {
        if (partLength != VERSION_SHAPE.length) {
          violation = "a malformed HTTP version (it must be HTTP/DIGIT.DIGIT)";
        }
        where = LINE_START;
      }
      case METHOD, TARGET -> violation = "a request line without method, target and version";
      case LINE_START -> where = BODY; // the empty line that ends the head
      default -> where = LINE_START;
    }
  }
}
