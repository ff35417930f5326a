package dev.locallambdas.frontdoor;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** A response as {@link RawConnection} read it: header lines in order, names as sent. */
@SuppressWarnings("ArrayRecordComponent") // a test's view of bytes read, compared by content
record RawResponse(int status, String reason, List<String[]> headerLines, byte[] body) {
  RawResponse withBody(byte[] b) {
    return new RawResponse(status, reason, headerLines, b);
  }

  /** The first value of a header (names compared case-insensitively), or null. */
  String header(String name) {
    for (String[] h : headerLines) {
      if (h[0].equalsIgnoreCase(name)) {
        return h[1];
      }
    }
    return null;
  }

  List<String> headers(String name) {
    List<String> out = new ArrayList<>();
    for (String[] h : headerLines) {
      if (h[0].equalsIgnoreCase(name)) {
        out.add(h[1]);
      }
    }
    return out;
  }

  String text() {
    return new String(body, StandardCharsets.UTF_8);
  }

  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder().append(status).append(' ').append(reason);
    for (String[] h : headerLines) {
      sb.append(" | ").append(h[0]).append(": ").append(h[1]);
    }
    String t = RawConnection.printable(text());
    return sb.append(" | ").append(t.length() > 400 ? t.substring(0, 400) + "..." : t).toString();
  }
}
