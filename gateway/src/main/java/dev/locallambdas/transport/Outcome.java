package dev.locallambdas.transport;

/** What a finished call tells the instance pool about the instance that served it. */
public enum Outcome {
  /** The function answered; the instance is healthy. */
  OK,
  /** The request failed or was cancelled, but the instance can serve the next one. */
  FAILED,
  /** The instance's channel is broken (protocol error, connection lost): replace it. */
  BROKEN,
  /** The instance did not finish within the request timeout: stop it and replace it. */
  HUNG
}
