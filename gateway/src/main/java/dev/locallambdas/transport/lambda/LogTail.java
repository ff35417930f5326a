package dev.locallambdas.transport.lambda;

import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Base64;

/**
 * The log of one invocation for the Invoke API's {@code X-Amz-Log-Type: Tail}: the lines the
 * runtime's process wrote while it ran, between Lambda's own START and END/REPORT lines; what is
 * sent ({@code X-Amz-Log-Result}) is base64 of its last 4 KB, as Lambda sends. Lines come from the
 * draining thread, the rest from the environment's loop: synchronized.
 */
final class LogTail {
  static final int MAX_BYTES = 4096;

  private final ArrayDeque<byte[]> lines = new ArrayDeque<>();
  private int bytes;

  synchronized void add(String line) {
    byte[] b = (line + "\n").getBytes(StandardCharsets.UTF_8);
    lines.addLast(b);
    bytes += b.length;
    while (bytes - lines.peekFirst().length >= MAX_BYTES) {
      bytes -= lines.removeFirst().length; // what is left still fills the 4 KB
    }
  }

  /** Base64 of the last 4 KB of the log. */
  synchronized String result() {
    byte[] all = new byte[bytes];
    int at = 0;
    for (byte[] b : lines) {
      System.arraycopy(b, 0, all, at, b.length);
      at += b.length;
    }
    int from = Math.max(0, all.length - MAX_BYTES);
    return Base64.getEncoder().encodeToString(java.util.Arrays.copyOfRange(all, from, all.length));
  }
}
