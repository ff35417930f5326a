package dev.locallambdas.transport.pipe;

import dev.locallambdas.exchange.Headers;
import dev.locallambdas.exchange.HttpSyntax;
import io.netty.buffer.Unpooled;
import java.nio.BufferOverflowException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * Encodes and decodes the frames of the pipe protocol, versions 1.0 and 1.1 (docs/protocol.md).
 * Decoding is strict and works on any ByteBuffer: every violation is a {@link FrameException},
 * never an unchecked exception, and no allocation is larger than the bytes actually present (a
 * declared length is checked against what remains before anything is allocated). Encoders write
 * whole frames at the buffer's position; they throw {@link java.nio.BufferOverflowException} when
 * the buffer is too small (the caller grows it) and IllegalArgumentException for a value the
 * protocol cannot carry. Encoders do not validate what they carry, so tests can produce hostile
 * frames with them.
 */
final class FrameCodec {
  static final int HEADER_SIZE = 10;
  static final int MAX_PAYLOAD = 1 << 20;

  /** Largest body chunk this side sends; the protocol recommends at most 64 KiB. */
  static final int BODY_CHUNK = 64 * 1024;

  /** Protocol 1.0. */
  static final int VERSION_1 = 1;

  /** Protocol 1.1: acknowledged RESET, deadline, CREDIT (docs/protocol.md section 7). */
  static final int VERSION_2 = 2;

  /** The smallest window a WELCOME may announce: one body chunk. */
  static final int MIN_WINDOW = 64 * 1024;

  /** The largest a window may grow to. */
  static final long MAX_WINDOW = Integer.MAX_VALUE;

  static final int END_STREAM = 0x01;

  static final int HELLO = 0x01;
  static final int WELCOME = 0x02;
  static final int REQUEST_HEAD = 0x10;
  static final int REQUEST_BODY = 0x11;
  static final int RESPONSE_HEAD = 0x20;
  static final int RESPONSE_BODY = 0x21;
  static final int RESET = 0x30;
  static final int CREDIT = 0x31;

  /** Shared-memory bodies (section 8), only on a connection that accepted {@link #CAP_SHM}. */
  static final int SHM_ATTACH = 0x40;

  static final int SHM_BODY = 0x41;
  static final int SHM_RELEASE = 0x42;

  /** The capability bit of shared-memory bodies. */
  static final long CAP_SHM = 0x1;

  /** SHM_BODY and SHM_RELEASE payload sizes. */
  static final int SHM_BODY_PAYLOAD = 12;

  static final int SHM_RELEASE_PAYLOAD = 8;

  /** A HELLO payload's fixed part plus the largest str16 and the 1.1 capabilities. */
  static final int MAX_HELLO_PAYLOAD = 2 + 2 + 4 + 2 + 0xFFFF + 4;

  private static final boolean[] TOKEN = new boolean[128];

  static {
    for (char c = '0'; c <= '9'; c++) {
      TOKEN[c] = true;
    }
    for (char c = 'a'; c <= 'z'; c++) {
      TOKEN[c] = true;
      TOKEN[Character.toUpperCase(c)] = true;
    }
    for (char c : "!#$%&'*+-.^_`|~".toCharArray()) {
      TOKEN[c] = true;
    }
  }

  private FrameCodec() {}

  /** {@code capabilities} is 0 for a 1.0 HELLO. */
  record Hello(int minVersion, int maxVersion, long pid, String sdk, long capabilities) {
    Hello(int minVersion, int maxVersion, long pid, String sdk) {
      this(minVersion, maxVersion, pid, sdk, 0);
    }
  }

  /**
   * {@code window} and {@code capabilities} are 0 for a 1.0 WELCOME; {@code segment} is null and
   * {@code threshold} 0 unless the WELCOME accepted {@link #CAP_SHM}.
   */
  record Welcome(
      int version,
      int concurrency,
      long maxPayload,
      String function,
      long window,
      long capabilities,
      String segment,
      long threshold) {
    Welcome(int version, int concurrency, long maxPayload, String function) {
      this(version, concurrency, maxPayload, function, 0, 0);
    }

    Welcome(
        int version,
        int concurrency,
        long maxPayload,
        String function,
        long window,
        long capabilities) {
      this(version, concurrency, maxPayload, function, window, capabilities, null, 0);
    }
  }

  /** An SHM_BODY doorbell or an SHM_RELEASE ({@code length} 0). */
  record SlotRef(int slot, long generation, int length) {}

  /** {@code deadlineMillis} is -1 for a 1.0 head, 0 for "no deadline". */
  record RequestHead(String method, String target, Headers headers, long deadlineMillis) {
    RequestHead(String method, String target, Headers headers) {
      this(method, target, headers, -1);
    }
  }

  record ResponseHead(int status, Headers headers) {}

  static String typeName(int type) {
    return switch (type) {
      case HELLO -> "HELLO";
      case WELCOME -> "WELCOME";
      case REQUEST_HEAD -> "REQUEST_HEAD";
      case REQUEST_BODY -> "REQUEST_BODY";
      case RESPONSE_HEAD -> "RESPONSE_HEAD";
      case RESPONSE_BODY -> "RESPONSE_BODY";
      case RESET -> "RESET";
      case CREDIT -> "CREDIT";
      case SHM_ATTACH -> "SHM_ATTACH";
      case SHM_BODY -> "SHM_BODY";
      case SHM_RELEASE -> "SHM_RELEASE";
      default -> String.format("frame type 0x%02x", type);
    };
  }

  // ---------------------------------------------------------------- frame level

  /**
   * Checks the header at {@code in.position()} (at least {@link #HEADER_SIZE} bytes must remain)
   * without consuming it, and returns the payload length.
   */
  static int checkHeader(ByteBuffer in) throws FrameException {
    int p = in.position();
    return checkHeader(
        Integer.toUnsignedLong(in.getInt(p)),
        in.get(p + 4) & 0xFF,
        in.get(p + 5) & 0xFF,
        in.getInt(p + 6));
  }

  /** Checks a header's fields; returns the payload length. */
  static int checkHeader(long length, int type, int flags, int stream) throws FrameException {
    if (length > MAX_PAYLOAD) {
      throw new FrameException(
          "frame length " + length + " exceeds the maximum payload of " + MAX_PAYLOAD + " bytes");
    }
    if ((flags & ~END_STREAM) != 0) {
      throw new FrameException(
          String.format(
              "reserved flag bits 0x%02x set on %s", flags & ~END_STREAM, typeName(type)));
    }
    switch (type) {
      case HELLO, WELCOME, SHM_ATTACH, SHM_RELEASE -> {
        if (stream != 0) {
          throw new FrameException(
              typeName(type) + " on stream " + Integer.toUnsignedString(stream) + ", not 0");
        }
      }
      case REQUEST_HEAD, REQUEST_BODY, RESPONSE_HEAD, RESPONSE_BODY, CREDIT, SHM_BODY -> {
        if (stream == 0) {
          throw new FrameException(typeName(type) + " on stream 0");
        }
      }
      case RESET -> {}
      default -> throw new FrameException("unknown " + typeName(type));
    }
    return (int) length;
  }

  static int typeAt(ByteBuffer in) {
    return in.get(in.position() + 4) & 0xFF;
  }

  static int flagsAt(ByteBuffer in) {
    return in.get(in.position() + 5) & 0xFF;
  }

  static int streamAt(ByteBuffer in) {
    return in.getInt(in.position() + 6);
  }

  /**
   * Decodes one whole frame from {@code in}. Returns null, consuming nothing, while {@code in} does
   * not hold a whole frame yet; a bad header is reported as soon as its 10 bytes are there. The
   * payload is copied.
   */
  static Frame decode(ByteBuffer in) throws FrameException {
    if (in.remaining() < HEADER_SIZE) {
      return null;
    }
    int length = checkHeader(in);
    if (in.remaining() - HEADER_SIZE < length) {
      return null;
    }
    int type = typeAt(in);
    int flags = flagsAt(in);
    int stream = streamAt(in);
    in.position(in.position() + HEADER_SIZE);
    byte[] bytes = new byte[length];
    in.get(bytes);
    return new Frame(type, flags, stream, Unpooled.wrappedBuffer(bytes));
  }

  static void putHeader(ByteBuffer out, int length, int type, int flags, int stream) {
    out.putInt(length).put((byte) type).put((byte) flags).putInt(stream);
  }

  /** Skips the header, which {@link #end} fills in once the payload's length is known. */
  private static int reserve(ByteBuffer out) {
    if (out.remaining() < HEADER_SIZE) {
      throw new BufferOverflowException();
    }
    int start = out.position();
    out.position(start + HEADER_SIZE);
    return start;
  }

  private static void end(ByteBuffer out, int start, int type, int flags, int stream) {
    int length = out.position() - start - HEADER_SIZE;
    if (length > MAX_PAYLOAD) {
      throw new IllegalArgumentException(
          typeName(type) + " payload of " + length + " bytes exceeds " + MAX_PAYLOAD + " bytes");
    }
    out.putInt(start, length)
        .put(start + 4, (byte) type)
        .put(start + 5, (byte) flags)
        .putInt(start + 6, stream);
  }

  private static int flags(boolean endStream) {
    return endStream ? END_STREAM : 0;
  }

  // ---------------------------------------------------------------- encoders

  /** A 1.0 HELLO (no capabilities). */
  static void putHello(ByteBuffer out, int minVersion, int maxVersion, long pid, String sdk) {
    int start = reserve(out);
    out.putShort((short) minVersion).putShort((short) maxVersion).putInt((int) pid);
    putStr16(out, sdk);
    end(out, start, HELLO, 0, 0);
  }

  /** A HELLO that offers 1.1: the capabilities word follows the sdk name. */
  static void putHello(
      ByteBuffer out, int minVersion, int maxVersion, long pid, String sdk, long capabilities) {
    int start = reserve(out);
    out.putShort((short) minVersion).putShort((short) maxVersion).putInt((int) pid);
    putStr16(out, sdk);
    out.putInt((int) capabilities);
    end(out, start, HELLO, 0, 0);
  }

  /** A 1.0 WELCOME. */
  static void putWelcome(
      ByteBuffer out, int version, int concurrency, int maxPayload, String function) {
    int start = reserve(out);
    out.putShort((short) version).putShort((short) concurrency).putInt(maxPayload);
    putStr16(out, function);
    end(out, start, WELCOME, 0, 0);
  }

  /** A 1.1 WELCOME: window and accepted capabilities follow the function id. */
  static void putWelcome(
      ByteBuffer out,
      int version,
      int concurrency,
      int maxPayload,
      String function,
      int window,
      long capabilities) {
    putWelcome(out, version, concurrency, maxPayload, function, window, capabilities, null, 0);
  }

  /**
   * A 1.1 WELCOME; when {@code segment} is not null (it accepted shared-memory bodies) the segment
   * path and the threshold follow the capabilities.
   */
  static void putWelcome(
      ByteBuffer out,
      int version,
      int concurrency,
      int maxPayload,
      String function,
      int window,
      long capabilities,
      String segment,
      int threshold) {
    int start = reserve(out);
    out.putShort((short) version).putShort((short) concurrency).putInt(maxPayload);
    putStr16(out, function);
    out.putInt(window).putInt((int) capabilities);
    if (segment != null) {
      putStr16(out, segment);
      out.putInt(threshold);
    }
    end(out, start, WELCOME, 0, 0);
  }

  /** An SHM_ATTACH: status 0 means the child mapped the segment. */
  static void putShmAttach(ByteBuffer out, int status, String reason) {
    int start = reserve(out);
    out.putInt(status);
    putUtf8(out, reason);
    end(out, start, SHM_ATTACH, 0, 0);
  }

  /** An SHM_BODY doorbell: {@code length} body bytes are at the start of {@code slot}. */
  static void putShmBody(
      ByteBuffer out, int stream, boolean endStream, int slot, long generation, int length) {
    putHeader(out, SHM_BODY_PAYLOAD, SHM_BODY, flags(endStream), stream);
    out.putShort((short) slot).putShort((short) 0).putInt((int) generation).putInt(length);
  }

  /** An SHM_RELEASE: the slot's piece of {@code generation} was read. */
  static void putShmRelease(ByteBuffer out, int slot, long generation) {
    putHeader(out, SHM_RELEASE_PAYLOAD, SHM_RELEASE, 0, 0);
    out.putShort((short) slot).putShort((short) 0).putInt((int) generation);
  }

  /** A 1.0 REQUEST_HEAD. */
  static void putRequestHead(
      ByteBuffer out,
      int stream,
      boolean endStream,
      String method,
      String target,
      Headers headers) {
    putRequestHead(out, stream, endStream, method, target, headers, -1);
  }

  /**
   * A REQUEST_HEAD; {@code deadlineMillis} >= 0 adds the 1.1 deadline field (0: no deadline), -1
   * leaves it out (1.0).
   */
  static void putRequestHead(
      ByteBuffer out,
      int stream,
      boolean endStream,
      String method,
      String target,
      Headers headers,
      long deadlineMillis) {
    int start = reserve(out);
    putStr16(out, method);
    putStr32(out, target);
    putHeaders(out, headers);
    if (deadlineMillis >= 0) {
      out.putInt((int) Math.min(deadlineMillis, 0xFFFF_FFFFL));
    }
    end(out, start, REQUEST_HEAD, flags(endStream), stream);
  }

  /** A CREDIT (1.1): the receiver may send {@code increment} more body bytes on the stream. */
  static void putCredit(ByteBuffer out, int stream, int increment) {
    if (increment <= 0) {
      throw new IllegalArgumentException("CREDIT increment " + increment + " is not positive");
    }
    int start = reserve(out);
    out.putInt(increment);
    end(out, start, CREDIT, 0, stream);
  }

  static void putResponseHead(
      ByteBuffer out, int stream, boolean endStream, int status, Headers headers) {
    int start = reserve(out);
    out.putShort((short) status);
    putHeaders(out, headers);
    end(out, start, RESPONSE_HEAD, flags(endStream), stream);
  }

  /** A REQUEST_BODY or RESPONSE_BODY frame carrying the next {@code n} bytes of {@code src}. */
  static void putBody(
      ByteBuffer out, int type, int stream, boolean endStream, ByteBuffer src, int n) {
    if (n > MAX_PAYLOAD) {
      throw new IllegalArgumentException("body chunk of " + n + " bytes exceeds " + MAX_PAYLOAD);
    }
    if (out.remaining() < HEADER_SIZE + n) {
      throw new BufferOverflowException();
    }
    putHeader(out, n, type, flags(endStream), stream);
    out.put(out.position(), src, src.position(), n);
    out.position(out.position() + n);
    src.position(src.position() + n);
  }

  /** A RESET; the reason is cut to 1 KiB, which is plenty for a log line. */
  static void putReset(ByteBuffer out, int stream, String reason) {
    String r = reason.length() > 1024 ? reason.substring(0, 1024) : reason;
    int start = reserve(out);
    putUtf8(out, r);
    end(out, start, RESET, 0, stream);
  }

  private static void putHeaders(ByteBuffer out, Headers headers) {
    int n = headers.size();
    if (n > 0xFFFF) {
      throw new IllegalArgumentException(n + " headers exceed the protocol's 65535");
    }
    out.putShort((short) n);
    for (int i = 0; i < n; i++) {
      putStr16(out, headers.name(i));
      putStr32(out, headers.value(i));
    }
  }

  private static void putStr16(ByteBuffer out, String s) {
    int at = out.position();
    out.putShort((short) 0);
    putUtf8(out, s);
    int n = out.position() - at - 2;
    if (n > 0xFFFF) {
      throw new IllegalArgumentException("string of " + n + " bytes does not fit a str16");
    }
    out.putShort(at, (short) n);
  }

  private static void putStr32(ByteBuffer out, String s) {
    int at = out.position();
    out.putInt(0);
    putUtf8(out, s);
    out.putInt(at, out.position() - at - 4);
  }

  /** UTF-8 without an intermediate byte[]; an unpaired surrogate becomes '?'. */
  private static void putUtf8(ByteBuffer out, String s) {
    int n = s.length();
    for (int i = 0; i < n; i++) {
      char c = s.charAt(i);
      if (c < 0x80) {
        out.put((byte) c);
      } else if (c < 0x800) {
        out.put((byte) (0xC0 | c >> 6)).put((byte) (0x80 | c & 0x3F));
      } else if (Character.isSurrogate(c)) {
        if (Character.isHighSurrogate(c)
            && i + 1 < n
            && Character.isLowSurrogate(s.charAt(i + 1))) {
          int cp = Character.toCodePoint(c, s.charAt(++i));
          out.put((byte) (0xF0 | cp >> 18))
              .put((byte) (0x80 | cp >> 12 & 0x3F))
              .put((byte) (0x80 | cp >> 6 & 0x3F))
              .put((byte) (0x80 | cp & 0x3F));
        } else {
          out.put((byte) '?');
        }
      } else {
        out.put((byte) (0xE0 | c >> 12))
            .put((byte) (0x80 | c >> 6 & 0x3F))
            .put((byte) (0x80 | c & 0x3F));
      }
    }
  }

  // ---------------------------------------------------------------- payload decoders

  static Hello decodeHello(ByteBuffer in) throws FrameException {
    int min = u16(in, "HELLO min_version");
    int max = u16(in, "HELLO max_version");
    long pid = u32(in, "HELLO pid");
    String sdk = str16(in, "HELLO sdk");
    if (min > max) {
      throw new FrameException("HELLO min_version " + min + " is above max_version " + max);
    }
    long capabilities = 0;
    if (in.remaining() == 4) {
      // Sent only with a bit set (section 7.1): a 1.0 gateway would refuse the extra bytes.
      capabilities = u32(in, "HELLO capabilities");
    }
    finish(in, "HELLO");
    return new Hello(min, max, pid, sdk, capabilities);
  }

  static Welcome decodeWelcome(ByteBuffer in) throws FrameException {
    int version = u16(in, "WELCOME version");
    int concurrency = u16(in, "WELCOME concurrency");
    long maxPayload = u32(in, "WELCOME max_payload");
    String function = str16(in, "WELCOME function");
    long window = 0;
    long capabilities = 0;
    String segment = null;
    long threshold = 0;
    if (version >= VERSION_2) {
      window = u32(in, "WELCOME window");
      capabilities = u32(in, "WELCOME capabilities");
      if ((capabilities & CAP_SHM) != 0) {
        segment = str16(in, "WELCOME segment");
        threshold = u32(in, "WELCOME threshold");
      }
    }
    finish(in, "WELCOME");
    return new Welcome(
        version, concurrency, maxPayload, function, window, capabilities, segment, threshold);
  }

  /** An SHM_ATTACH's status; the reason text, if any, is left in {@code in}. */
  static long decodeShmAttachStatus(ByteBuffer in) throws FrameException {
    return u32(in, "SHM_ATTACH status");
  }

  /** An SHM_BODY (with its length) or an SHM_RELEASE (length 0), checked for shape only. */
  static SlotRef decodeSlotRef(ByteBuffer in, boolean body) throws FrameException {
    String what = body ? "SHM_BODY" : "SHM_RELEASE";
    int size = body ? SHM_BODY_PAYLOAD : SHM_RELEASE_PAYLOAD;
    if (in.remaining() != size) {
      throw new FrameException(what + " payload of " + in.remaining() + " bytes, not " + size);
    }
    int slot = u16(in, what + " slot");
    int zero = u16(in, what + " zero");
    if (zero != 0) {
      throw new FrameException(what + " has " + zero + " in its zero field");
    }
    long generation = u32(in, what + " generation");
    long length = body ? u32(in, what + " length") : 0;
    if (length > Integer.MAX_VALUE) {
      throw new FrameException(what + " length " + length + " is larger than any slot");
    }
    return new SlotRef(slot, generation, (int) length);
  }

  /** A CREDIT's increment, 1 to 2^31-1. */
  static int decodeCredit(ByteBuffer in) throws FrameException {
    long increment = u32(in, "CREDIT increment");
    finish(in, "CREDIT");
    if (increment == 0 || increment > MAX_WINDOW) {
      throw new FrameException("CREDIT increment " + increment + " is outside 1.." + MAX_WINDOW);
    }
    return (int) increment;
  }

  /** A 1.0 request head (no deadline). */
  static RequestHead decodeRequestHead(ByteBuffer in) throws FrameException {
    return decodeRequestHead(in, VERSION_1);
  }

  /** Structure only: a child decides itself what it accepts. Names come out lower case. */
  static RequestHead decodeRequestHead(ByteBuffer in, int version) throws FrameException {
    String method = str16(in, "REQUEST_HEAD method");
    String target = str32(in, "REQUEST_HEAD target");
    int count = headerCount(in, "REQUEST_HEAD");
    Headers.Builder headers = Headers.builder();
    for (int i = 0; i < count; i++) {
      headers.add(str16(in, "header name"), str32(in, "header value"));
    }
    long deadline = version >= VERSION_2 ? u32(in, "REQUEST_HEAD deadline_ms") : -1;
    finish(in, "REQUEST_HEAD");
    return new RequestHead(method, target, headers.build(), deadline);
  }

  /**
   * Decodes and validates a response head: status 100 < s <= 599 and not 101, names are tokens
   * (upper case is accepted and lowered), values hold no control character but HTAB. Framing and
   * hop-by-hop fields are dropped: the gateway frames the response itself.
   */
  static ResponseHead decodeResponseHead(ByteBuffer in) throws FrameException {
    int status = u16(in, "RESPONSE_HEAD status");
    if (status <= 100 || status > 599 || status == 101) {
      throw new FrameException("invalid response status " + status);
    }
    int count = headerCount(in, "RESPONSE_HEAD");
    Headers.Builder headers = Headers.builder();
    for (int i = 0; i < count; i++) {
      String name = str16(in, "header name");
      String value = str32(in, "header value");
      checkName(name);
      checkValue(name, value);
      String lower = name.toLowerCase(Locale.ROOT);
      if (!HttpSyntax.isHopByHop(lower)) {
        headers.add(lower, value);
      }
    }
    finish(in, "RESPONSE_HEAD");
    return new ResponseHead(status, headers.build());
  }

  /** The reason of a RESET, decoded leniently (it only ends up in a message). */
  static String decodeReset(ByteBuffer in) {
    byte[] bytes = new byte[in.remaining()];
    in.get(bytes);
    return new String(bytes, StandardCharsets.UTF_8);
  }

  private static void checkName(String name) throws FrameException {
    if (name.isEmpty()) {
      throw new FrameException("empty header name");
    }
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      if (c >= 128 || !TOKEN[c]) {
        throw new FrameException("header name '" + printable(name) + "' is not an HTTP token");
      }
    }
  }

  private static void checkValue(String name, String value) throws FrameException {
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if ((c < 0x20 && c != '\t') || c == 0x7F) {
        throw new FrameException(
            String.format("value of header '%s' contains control character 0x%02x", name, (int) c));
      }
    }
  }

  private static String printable(String s) {
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < s.length() && i < 64; i++) {
      char c = s.charAt(i);
      if (c < 0x20 || c == 0x7F) {
        b.append(String.format("\\x%02x", (int) c));
      } else {
        b.append(c);
      }
    }
    return b.toString();
  }

  private static int headerCount(ByteBuffer in, String what) throws FrameException {
    int count = u16(in, what + " header count");
    // Each header takes at least 6 bytes (two empty strings): refuse a count the payload cannot
    // hold before decoding anything.
    if ((long) count * 6 > in.remaining()) {
      throw new FrameException(
          what + " declares " + count + " headers but only " + in.remaining() + " bytes follow");
    }
    return count;
  }

  private static int u16(ByteBuffer in, String what) throws FrameException {
    if (in.remaining() < 2) {
      throw truncated(what, 2, in);
    }
    return in.getShort() & 0xFFFF;
  }

  private static long u32(ByteBuffer in, String what) throws FrameException {
    if (in.remaining() < 4) {
      throw truncated(what, 4, in);
    }
    return Integer.toUnsignedLong(in.getInt());
  }

  private static String str16(ByteBuffer in, String what) throws FrameException {
    return utf8(in, u16(in, what + " length"), what);
  }

  private static String str32(ByteBuffer in, String what) throws FrameException {
    long n = u32(in, what + " length");
    if (n > in.remaining()) {
      throw truncated(what, n, in);
    }
    return utf8(in, (int) n, what);
  }

  private static FrameException truncated(String what, long needed, ByteBuffer in) {
    return new FrameException(
        "truncated " + what + ": needs " + needed + " bytes, " + in.remaining() + " remain");
  }

  private static String utf8(ByteBuffer in, int n, String what) throws FrameException {
    if (n > in.remaining()) {
      throw truncated(what, n, in);
    }
    byte[] bytes;
    int off;
    if (in.hasArray()) {
      bytes = in.array();
      off = in.arrayOffset() + in.position();
    } else {
      bytes = new byte[n];
      in.get(in.position(), bytes);
      off = 0;
    }
    in.position(in.position() + n);
    for (int i = off, end = off + n; i < end; i++) {
      if (bytes[i] < 0) {
        try {
          return StandardCharsets.UTF_8
              .newDecoder()
              .onMalformedInput(CodingErrorAction.REPORT)
              .onUnmappableCharacter(CodingErrorAction.REPORT)
              .decode(ByteBuffer.wrap(bytes, off, n))
              .toString();
        } catch (CharacterCodingException e) {
          throw new FrameException(what + " is not valid UTF-8");
        }
      }
    }
    // All ASCII, the common case: the Latin-1 constructor copies without decoding.
    return new String(bytes, off, n, StandardCharsets.ISO_8859_1);
  }

  private static void finish(ByteBuffer in, String what) throws FrameException {
    if (in.hasRemaining()) {
      throw new FrameException(in.remaining() + " unexpected bytes after the " + what + " payload");
    }
  }
}
