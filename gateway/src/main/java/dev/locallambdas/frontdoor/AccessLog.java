package dev.locallambdas.frontdoor;

import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * One line per request on the logger {@code dev.locallambdas.access}, in logfmt (key=value, the
 * format log tools such as Loki, Vector and lnav read): request id, function, instance, method,
 * path, status, body bytes, duration, and whether the instance was started for it (cold) or already
 * running (warm). Off unless that logger is at INFO (serve --access-log turns it on).
 */
final class AccessLog {
  static final Logger LOG = Logger.getLogger("dev.locallambdas.access");

  static {
    if (LOG.getLevel() == null) {
      LOG.setLevel(Level.WARNING); // off until switched on (serve --access-log)
    }
  }

  private AccessLog() {}

  /** A request being served; {@link #done} writes its line once. */
  static final class Entry {
    private final long start = System.nanoTime();
    private final String requestId;
    private final String function;
    private final String method;
    private final String path;
    private final String client;
    private String instance = "-";
    private String warmth = "-";
    private int status;
    private boolean written;

    Entry(String requestId, String function, String method, String path, String client) {
      this.requestId = requestId;
      this.function = function;
      this.method = method;
      this.path = path;
      this.client = client;
    }

    void instance(String label, boolean cold) {
      instance = label;
      warmth = cold ? "cold" : "warm";
    }

    void status(int value) {
      status = value;
    }

    void done(long bytes) {
      if (written || !LOG.isLoggable(Level.INFO)) {
        written = true;
        return;
      }
      written = true;
      double ms = (System.nanoTime() - start) / (double) TimeUnit.MILLISECONDS.toNanos(1);
      StringBuilder b = new StringBuilder(160);
      b.append("request_id=").append(requestId);
      b.append(" function=").append(function);
      b.append(" instance=").append(instance);
      b.append(" method=").append(method);
      b.append(" path=");
      quote(b, path);
      b.append(" status=").append(status);
      b.append(" bytes=").append(bytes);
      b.append(" duration_ms=").append(String.format(java.util.Locale.ROOT, "%.3f", ms));
      b.append(" start=").append(warmth);
      if (client != null) {
        b.append(" client=").append(client);
      }
      LOG.info(b.toString());
    }
  }

  /** logfmt quoting: a value with spaces, quotes or '=' goes in double quotes, escaped. */
  static void quote(StringBuilder b, String value) {
    boolean plain = !value.isEmpty();
    for (int i = 0; i < value.length() && plain; i++) {
      char c = value.charAt(i);
      plain = c > ' ' && c != '"' && c != '=' && c != '\\' && c < 0x7f;
    }
    if (plain) {
      b.append(value);
      return;
    }
    b.append('"');
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (c == '"' || c == '\\') {
        b.append('\\').append(c);
      } else if (c < ' ' || c == 0x7f) {
        b.append(String.format("\\x%02x", (int) c));
      } else {
        b.append(c);
      }
    }
    b.append('"');
  }
}
