package dev.locallambdas.metrics;

/**
 * A request the front door has finished with, as metrics and the dashboard's recent-requests list
 * see it. The front door's access-log entry is one, so recording a request allocates nothing more.
 */
public interface CompletedRequest {
  String requestId();

  String method();

  String path();

  /** The status sent, or 0 when the client went away before one was. */
  int status();

  /** "function#3", "cache", or "-" when no instance served it. */
  String instance();

  /** From the request head to the end of the response. */
  long durationNanos();

  /** When it ended, in System.nanoTime() (converted to wall time only when shown). */
  long endNanos();

  long bytesIn();

  long bytesOut();
}
