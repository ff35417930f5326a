package dev.locallambdas.transport.lambda;

import dev.locallambdas.json.Json;
import java.util.List;
import java.util.Map;

/**
 * An error a runtime reported (POST .../error or /init/error): the standard Lambda error document
 * {@code {"errorMessage", "errorType", "stackTrace"}}, or whatever it sent instead, with the
 * Lambda-Runtime-Function-Error-Type header as the fallback type.
 */
@SuppressWarnings("ArrayRecordComponent") // the bytes as the runtime sent them, handed on once
record LambdaError(String errorType, String errorMessage, List<String> stackTrace, byte[] raw) {
  private static final int MAX_MESSAGE_CHARS = 2000;

  static LambdaError of(String headerType, byte[] payload) {
    String type = headerType;
    String message = null;
    List<String> stack = List.of();
    try {
      if (payload.length > 0 && Json.parse(payload) instanceof Map<?, ?> m) {
        if (m.get("errorType") instanceof String t && !t.isEmpty()) {
          type = t;
        }
        if (m.get("errorMessage") instanceof String s) {
          message = s;
        }
        if (m.get("stackTrace") instanceof List<?> l) {
          stack = l.stream().map(String::valueOf).limit(20).toList();
        }
      }
    } catch (Json.SyntaxException e) {
      message = null; // not the standard document: the type header is all there is
    }
    return new LambdaError(
        type == null || type.isEmpty() ? "Unhandled" : type, message, stack, payload);
  }

  /** The standard error document, for an error that came without one. */
  byte[] document() {
    return RuntimeAnswer.error(200, errorType, errorMessage == null ? "" : errorMessage)
        .json()
        .getBytes(java.nio.charset.StandardCharsets.UTF_8);
  }

  /** "Type: message", shortened for a log line or a problem's detail. */
  String describe() {
    String s = errorMessage == null ? errorType : errorType + ": " + errorMessage;
    return s.length() <= MAX_MESSAGE_CHARS ? s : s.substring(0, MAX_MESSAGE_CHARS) + "...";
  }
}
