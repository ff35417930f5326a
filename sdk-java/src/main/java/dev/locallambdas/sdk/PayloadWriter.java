package dev.locallambdas.sdk;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

/** Builds a frame payload from the spec's encodings (u16, u32, str16, str32, headers). */
final class PayloadWriter {

  private byte[] bytes = new byte[128];
  private int size;

  PayloadWriter u16(int value) {
    if (value < 0 || value > 0xFFFF) {
      throw new IllegalArgumentException("does not fit in a u16: " + value);
    }
    ensure(2);
    bytes[size++] = (byte) (value >>> 8);
    bytes[size++] = (byte) value;
    return this;
  }

  PayloadWriter u32(long value) {
    ensure(4);
    bytes[size++] = (byte) (value >>> 24);
    bytes[size++] = (byte) (value >>> 16);
    bytes[size++] = (byte) (value >>> 8);
    bytes[size++] = (byte) value;
    return this;
  }

  PayloadWriter str16(String text) {
    byte[] utf8 = text.getBytes(StandardCharsets.UTF_8);
    if (utf8.length > 0xFFFF) {
      throw new IllegalArgumentException(
          "longer than 65535 bytes: " + text.substring(0, 40) + "...");
    }
    u16(utf8.length);
    return raw(utf8);
  }

  PayloadWriter str32(String text) {
    byte[] utf8 = text.getBytes(StandardCharsets.UTF_8);
    u32(utf8.length);
    return raw(utf8);
  }

  /** Headers given as a flat list name, value, name, value... */
  PayloadWriter headers(List<String> namesAndValues) {
    u16(namesAndValues.size() / 2);
    for (int i = 0; i < namesAndValues.size(); i += 2) {
      str16(namesAndValues.get(i));
      str32(namesAndValues.get(i + 1));
    }
    return this;
  }

  byte[] toByteArray() {
    return Arrays.copyOf(bytes, size);
  }

  PayloadWriter raw(byte[] data) {
    ensure(data.length);
    System.arraycopy(data, 0, bytes, size, data.length);
    size += data.length;
    return this;
  }

  private void ensure(int more) {
    if (size + more > bytes.length) {
      bytes = Arrays.copyOf(bytes, Math.max(bytes.length * 2, size + more));
    }
  }
}
