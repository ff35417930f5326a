package dev.locallambdas.transport.http;

import dev.locallambdas.exchange.HttpSyntax;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeadersFactory;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpResponseDecoder;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.AsciiString;
import java.nio.charset.StandardCharsets;

/**
 * Netty's response decoder made as strict as the gateway's old parser where Netty is lenient (see
 * ADR 0009 for each delta), and aware of the one request in flight on its connection: it knows
 * whether that request was a HEAD (whose answer has no body), whether any response byte arrived
 * since the request went out (the keep-alive race), and it refuses bytes that nobody asked for.
 *
 * <p>Field names and values are not validated here (the headers factory does not validate) but by
 * {@link ResponseHead} with {@link HttpSyntax}, the one grammar the gateway enforces.
 */
final class ResponseDecoder extends HttpResponseDecoder {
  /** The response head, interim (1xx) heads included, without line ends. */
  static final int MAX_HEAD_BYTES = 64 * 1024;

  /** A status line or a chunk size line. */
  static final int MAX_LINE_BYTES = 8 * 1024;

  private static final HttpHeadersFactory FIELDS =
      DefaultHttpHeadersFactory.headersFactory().withValidation(false);
  private static final HttpHeadersFactory TRAILERS =
      DefaultHttpHeadersFactory.trailersFactory().withValidation(false);

  private boolean expecting;
  private int lengthFields; // Content-Length lines in the head being read
  private boolean headRequest;
  private boolean received;

  ResponseDecoder() {
    super(
        new HttpDecoderConfig()
            .setMaxInitialLineLength(MAX_LINE_BYTES)
            .setMaxHeaderSize(MAX_HEAD_BYTES)
            // Reads bring at most 64 KiB; a larger piece limit keeps one body event per read.
            .setMaxChunkSize(1024 * 1024)
            .setStrictLineParsing(true)
            .setUseRfc9112TransferEncoding(true)
            .setHeadersFactory(FIELDS)
            .setTrailersFactory(TRAILERS));
  }

  /** A request went out: the next bytes are its answer. */
  void expect(boolean head) {
    expecting = true;
    headRequest = head;
    received = false;
  }

  /** The answer is complete: bytes arriving from now on were not asked for. */
  void idle() {
    expecting = false;
  }

  /** True once any byte arrived since {@link #expect}. */
  boolean received() {
    return received;
  }

  /** True when nothing beyond the last response was received (the connection can be reused). */
  boolean clean() {
    return actualReadableBytes() == 0;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
    if (msg instanceof ByteBuf bytes && bytes.isReadable()) {
      if (!expecting) {
        // A child that talks while no request is out is confused or answering twice; what it
        // sends would be taken for the answer to the next request, so the connection goes.
        bytes.release();
        ctx.close();
        return;
      }
      received = true;
    }
    super.channelRead(ctx, msg);
  }

  @Override
  protected HttpMessage createMessage(String[] initialLine) {
    // Netty splits the status line on any whitespace (RFC 9112 section 4 allows that); what the
    // words say is checked as strictly as before.
    HttpVersion version =
        switch (initialLine[0]) {
          case "HTTP/1.1" -> HttpVersion.HTTP_1_1;
          case "HTTP/1.0" -> HttpVersion.HTTP_1_0;
          default ->
              throw new Violation(
                  "sent an invalid status line (version '"
                      + HttpSyntax.printable(initialLine[0])
                      + "')");
        };
    String code = initialLine[1];
    if (code.length() != 3 || !digits(code)) {
      throw new Violation(
          "sent an invalid status line (status '" + HttpSyntax.printable(code) + "')");
    }
    int status = Integer.parseInt(code);
    if (status < 100 || status > 599) {
      throw new Violation("sent status " + status + ", outside 100-599");
    }
    if (status == 101) {
      throw new Violation("switched protocols (101), which a proxied request never asks for");
    }
    if (!HttpSyntax.isValidValue(initialLine[2])) {
      throw new Violation("sent a control character in the reason phrase");
    }
    lengthFields = 0;
    // The reason phrase is not forwarded; the shared status object saves an allocation.
    return new DefaultHttpResponse(version, HttpResponseStatus.valueOf(status), FIELDS);
  }

  @Override
  protected AsciiString splitHeaderName(byte[] line, int start, int length) {
    // For responses Netty ends a field name at the first ':' or whitespace and then skips to the
    // colon, which would turn "Bad Name: x" into "Bad: x" and accept a line without any colon
    // after a space. The old parser refused both, and so does this: the byte after the name must
    // be the colon. (Netty passes the whole line, so that byte is within it.)
    if (length == 0 || line[start + length] != ':') {
      throw new Violation(
          "sent an invalid header line (name '"
              + HttpSyntax.printable(new String(line, start, length, StandardCharsets.ISO_8859_1))
              + "' not followed by ':')");
    }
    AsciiString name = super.splitHeaderName(line, start, length);
    if (name.contentEqualsIgnoreCase(HttpHeaderNames.CONTENT_LENGTH)) {
      lengthFields++;
    }
    return name;
  }

  /**
   * Called once the head's fields are read (Netty's last look at a head before it picks the
   * framing), so it is also where a second Content-Length is refused: for HTTP/1.0 Netty would keep
   * the first of two different values and drop the other.
   */
  @Override
  protected boolean isContentAlwaysEmpty(HttpMessage msg) {
    if (lengthFields > 1) {
      throw new Violation("sent more than one Content-Length");
    }
    return headRequest || super.isContentAlwaysEmpty(msg);
  }

  /** What a failed decoding says about the child, for a PROTOCOL failure ("sent ..."). */
  static String describe(Throwable cause) {
    if (cause instanceof Violation) {
      return cause.getMessage();
    }
    if (cause instanceof TooLongFrameException) {
      return "sent a response head or chunk size line longer than its limit";
    }
    return "sent an invalid response (" + cause.getMessage() + ")";
  }

  private static boolean digits(String s) {
    for (int i = 0; i < s.length(); i++) {
      if (s.charAt(i) < '0' || s.charAt(i) > '9') {
        return false;
      }
    }
    return true;
  }

  /** A response the gateway refuses; the message says what the child did ("sent ..."). */
  static final class Violation extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    Violation(String message) {
      super(message);
    }
  }
}
