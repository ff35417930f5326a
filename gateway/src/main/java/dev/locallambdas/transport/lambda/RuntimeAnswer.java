package dev.locallambdas.transport.lambda;

import dev.locallambdas.json.Json;

/**
 * What the Runtime API answers a runtime's POST: the status and JSON body AWS's own Runtime API
 * gives in the same situation, so a runtime's error handling behaves here as it does on Lambda.
 */
record RuntimeAnswer(int status, String json) {
  /** Lambda's limit on a response payload: 6 MB, and the 100 bytes AWS lets through over it. */
  static final int MAX_PAYLOAD = 6 * 1024 * 1024 + 100;

  static final RuntimeAnswer ACCEPTED = new RuntimeAnswer(202, "{\"status\":\"OK\"}");

  static final RuntimeAnswer INVALID_REQUEST_ID =
      error(400, "InvalidRequestID", "Invalid request ID");

  static final RuntimeAnswer TOO_LARGE =
      error(
          413,
          "RequestEntityTooLarge",
          "Exceeded maximum allowed payload size (" + MAX_PAYLOAD + " bytes).");

  static final RuntimeAnswer NOT_FOUND = error(404, "NotFound", "no such Runtime API path");

  static final RuntimeAnswer METHOD_NOT_ALLOWED =
      error(405, "MethodNotAllowed", "this Runtime API path does not take that method");

  static final RuntimeAnswer FOREIGN =
      error(
          403,
          "AccessDeniedException",
          "this Runtime API serves the process the gateway started for this environment only");

  static final RuntimeAnswer BAD_REQUEST = error(400, "InvalidRequest", "malformed HTTP request");

  static RuntimeAnswer invalidState(String from, String to) {
    return error(
        403,
        "InvalidStateTransition",
        "State transition from "
            + from
            + " to "
            + to
            + " failed for runtime. Error: State transition is not allowed");
  }

  static RuntimeAnswer error(int status, String errorType, String errorMessage) {
    StringBuilder sb = new StringBuilder("{\"errorMessage\":");
    Json.appendString(sb, errorMessage).append(",\"errorType\":");
    Json.appendString(sb, errorType).append('}');
    return new RuntimeAnswer(status, sb.toString());
  }
}
