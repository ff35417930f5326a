package dev.locallambdas.sdk;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;

/**
 * Decodes a frame payload; running past its end is a protocol error. Trailing bytes are allowed
 * unless {@link #end} says otherwise (a version 2 WELCOME must end after its fields).
 */
final class PayloadReader {

  private final byte[] bytes;
  private final String what;
  private int position;

  PayloadReader(byte[] bytes, String what) {
    this.bytes = bytes;
    this.what = what;
  }

  int u16() throws ProtocolException {
    need(2);
    int value = (bytes[position] & 0xFF) << 8 | bytes[position + 1] & 0xFF;
    position += 2;
    return value;
  }

  long u32() throws ProtocolException {
    need(4);
    long value =
        (bytes[position] & 0xFFL) << 24
            | (bytes[position + 1] & 0xFF) << 16
            | (bytes[position + 2] & 0xFF) << 8
            | bytes[position + 3] & 0xFF;
    position += 4;
    return value;
  }

  String str16() throws ProtocolException {
    return string(u16());
  }

  String str32() throws ProtocolException {
    long length = u32();
    if (length > bytes.length - position) {
      throw truncated();
    }
    return string((int) length);
  }

  List<Map.Entry<String, String>> headers() throws ProtocolException {
    int count = u16();
    List<Map.Entry<String, String>> headers = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      String name = str16();
      headers.add(Map.entry(name, str32()));
    }
    return Collections.unmodifiableList(headers);
  }

  /** Refuses bytes after the fields read so far. */
  void end() throws ProtocolException {
    if (position != bytes.length) {
      throw new ProtocolException(
          (bytes.length - position) + " unexpected bytes after the " + what + " fields");
    }
  }

  private String string(int length) throws ProtocolException {
    need(length);
    String text = new String(bytes, position, length, StandardCharsets.UTF_8);
    position += length;
    return text;
  }

  private void need(int count) throws ProtocolException {
    if (count > bytes.length - position) {
      throw truncated();
    }
  }

  private ProtocolException truncated() {
    return new ProtocolException(what + " payload is truncated (" + bytes.length + " bytes)");
  }
}
