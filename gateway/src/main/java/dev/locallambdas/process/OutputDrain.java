package dev.locallambdas.process;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.function.Consumer;

/**
 * Reads a child's output stream to its end, handing on each line. Lines longer than the bound are
 * handed on in pieces, so a child writing megabytes without a newline costs bounded memory.
 */
final class OutputDrain {
  static final int MAX_LINE_BYTES = 8 * 1024;

  private OutputDrain() {}

  /**
   * Reads {@code in} until end of stream, calling {@code lines} for each line without its line
   * terminator ("\n" or "\r\n"). A last line without terminator is handed on too. Does not close
   * {@code in}.
   */
  static void drain(InputStream in, int maxLineBytes, Consumer<String> lines) throws IOException {
    byte[] chunk = new byte[8192];
    byte[] line = new byte[maxLineBytes];
    int lineLength = 0;
    int n;
    while ((n = in.read(chunk)) >= 0) {
      for (int i = 0; i < n; i++) {
        byte b = chunk[i];
        if (b == '\n') {
          lines.accept(decode(line, lineLength));
          lineLength = 0;
        } else {
          if (lineLength == maxLineBytes) {
            int cut = utf8Boundary(line, lineLength);
            lines.accept(new String(line, 0, cut, StandardCharsets.UTF_8));
            System.arraycopy(line, cut, line, 0, lineLength - cut);
            lineLength -= cut;
          }
          line[lineLength++] = b;
        }
      }
    }
    if (lineLength > 0) {
      lines.accept(decode(line, lineLength));
    }
  }

  private static String decode(byte[] line, int length) {
    int end = length > 0 && line[length - 1] == '\r' ? length - 1 : length;
    return new String(line, 0, end, StandardCharsets.UTF_8);
  }

  /**
   * Where to cut a full buffer so that a UTF-8 sequence is not split: before an incomplete sequence
   * at its end, if there is one (and the buffer holds more than that sequence).
   */
  private static int utf8Boundary(byte[] line, int length) {
    for (int back = 1; back <= 3 && back < length; back++) {
      int b = line[length - back] & 0xff;
      if ((b & 0xc0) == 0x80) {
        continue; // continuation byte: keep looking for the lead byte
      }
      int needed = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
      return needed > back ? length - back : length;
    }
    return length;
  }
}
