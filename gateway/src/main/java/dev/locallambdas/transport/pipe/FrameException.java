package dev.locallambdas.transport.pipe;

/**
 * Bytes that break the pipe protocol (docs/protocol.md): a bad header, an unknown type, a payload
 * that does not decode. Checked, and deliberately not an IOException, so that a protocol violation
 * is never mistaken for a broken connection.
 */
final class FrameException extends Exception {
  private static final long serialVersionUID = 1L;

  FrameException(String message) {
    super(message);
  }
}
