package dev.locallambdas.exchange;

import java.io.IOException;

/** The client closed its connection: nobody is left to answer. */
public final class ClientGoneException extends IOException {
  private static final long serialVersionUID = 1L;

  public ClientGoneException(String message) {
    super(message);
  }
}
