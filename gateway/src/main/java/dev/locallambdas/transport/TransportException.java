package dev.locallambdas.transport;

import java.io.IOException;

/**
 * A failure between the gateway and a child, classified so the caller can choose the status code,
 * whether the request may be retried and whether the instance must be replaced.
 */
public final class TransportException extends IOException {
  private static final long serialVersionUID = 1L;

  /** What went wrong. */
  public enum Kind {
    /**
     * The child never received the request (connect refused, gone before reading): safe to retry.
     */
    NOT_DELIVERED(true),
    /** The child did not become ready (exited, or the start-up deadline passed). */
    NOT_READY(true),
    /** The connection to the child broke during the exchange (it crashed or closed). */
    CHILD_FAILED(true),
    /** The child sent something the protocol forbids (bad frame, status or header). */
    PROTOCOL(true),
    /** The child aborted this one request (RESET frame, handler error); the instance is fine. */
    RESET(false),
    /**
     * The function's code failed this one request and said so through its platform (a Lambda
     * handler threw: the runtime posted an error); the instance is fine.
     */
    HANDLER_ERROR(false);

    private final boolean breaksInstance;

    Kind(boolean breaksInstance) {
      this.breaksInstance = breaksInstance;
    }

    /** True when the instance can no longer be trusted and must be replaced. */
    public boolean breaksInstance() {
      return breaksInstance;
    }
  }

  private final Kind kind;

  public TransportException(Kind kind, String message) {
    super(message);
    this.kind = kind;
  }

  public TransportException(Kind kind, String message, Throwable cause) {
    super(message, cause);
    this.kind = kind;
  }

  public Kind kind() {
    return kind;
  }
}
