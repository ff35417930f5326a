package dev.locallambdas.frontdoor;

import dev.locallambdas.exchange.Problem;
import dev.locallambdas.metrics.CompletedRequest;
import dev.locallambdas.metrics.FunctionMetrics;
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

  /**
   * A request being served: {@link #done} writes its line once and records it in the function's
   * metrics (when it is a function's request), which read this very object (no copy).
   */
  static final class Entry implements CompletedRequest {
    private final long start = System.nanoTime();
    private final String requestId;
    private final String function;
    private final String method;
    private final String path;
    private final String client;
    private final FunctionMetrics metrics;
    private String instance = "-";
    private String warmth = "-";
    private int status;
    private long granted;
    private long end;
    private long bytesIn;
    private long bytesOut;
    private boolean written;

    /** {@code metrics}: the function's instruments, or null for a request no function got. */
    Entry(
        String requestId,
        String function,
        String method,
        String path,
        String client,
        FunctionMetrics metrics) {
      this.requestId = requestId;
      this.function = function;
      this.method = method;
      this.path = path;
      this.client = client;
      this.metrics = metrics;
    }

    void instance(String label, boolean cold) {
      instance = label;
      warmth = cold ? "cold" : "warm";
    }

    void status(int value) {
      status = value;
    }

    /** The request got its (first) slot: the time since its head is its queue wait. */
    void granted() {
      if (granted == 0) {
        granted = System.nanoTime();
        if (metrics != null) {
          metrics.queueWait(granted - start);
        }
      }
    }

    /** The first response of a fresh instance started: its time since the grant is recorded. */
    void firstResponse() {
      if (metrics != null && granted != 0) {
        metrics.firstResponse(System.nanoTime() - granted);
      }
    }

    /** The request timed out in its instance. */
    void timedOut() {
      if (metrics != null) {
        metrics.requestTimedOut();
      }
    }

    /** The gateway answered with its own error instead of the function's response. */
    void rejected(Problem problem) {
      if (metrics != null) {
        metrics.rejected(problem.status(), problem.type());
      }
    }

    void bytesIn(long n) {
      bytesIn = n;
    }

    void done(long bytes) {
      if (written) {
        return;
      }
      written = true;
      end = System.nanoTime();
      bytesOut = bytes;
      if (metrics != null) {
        metrics.completed(this);
      }
      if (!LOG.isLoggable(Level.INFO)) {
        return;
      }
      double ms = (end - start) / (double) TimeUnit.MILLISECONDS.toNanos(1);
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

    @Override
    public String requestId() {
      return requestId;
    }

    @Override
    public String method() {
      return method;
    }

    @Override
    public String path() {
      return path;
    }

    @Override
    public int status() {
      return status;
    }

    @Override
    public String instance() {
      return instance;
    }

    @Override
    public long durationNanos() {
      return end - start;
    }

    @Override
    public long endNanos() {
      return end;
    }

    @Override
    public long bytesIn() {
      return bytesIn;
    }

    @Override
    public long bytesOut() {
      return bytesOut;
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
