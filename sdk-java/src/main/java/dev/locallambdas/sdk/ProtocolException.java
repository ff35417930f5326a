package dev.locallambdas.sdk;

import java.io.IOException;

/** The gateway broke the pipe protocol; the connection cannot be used any more. */
final class ProtocolException extends IOException {

  ProtocolException(String message) {
    super(message);
  }
}
