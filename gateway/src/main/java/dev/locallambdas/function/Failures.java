package dev.locallambdas.function;

import dev.locallambdas.exchange.Problem;
import dev.locallambdas.manifest.FunctionSpec;
import dev.locallambdas.process.ExitStatus;
import dev.locallambdas.transport.TransportException;
import java.time.Duration;
import java.util.List;

/**
 * The one place that turns a failure to serve a request into the HTTP answer the client gets: the
 * pool's refusals (503), a broken call (502), a timeout (504). Every text says what went wrong and
 * what to change.
 */
public final class Failures {
  private Failures() {}

  static Problem shuttingDown(FunctionSpec spec) {
    return Problem.of(503, "shutting-down", "Service Unavailable")
        .function(spec.id())
        .detail("the gateway is shutting down; function '" + spec.id() + "' takes no new requests")
        .retryAfterSeconds(1)
        .build();
  }

  static Problem drained(FunctionSpec spec) {
    return Problem.of(503, "drained", "Service Unavailable")
        .function(spec.id())
        .detail(
            "function '"
                + spec.id()
                + "' was drained through the admin API and takes no requests; start it again with"
                + " POST /.local-lambdas/functions/"
                + spec.id()
                + "/start")
        .build();
  }

  static Problem overloaded(FunctionSpec spec) {
    return Problem.of(503, "overloaded", "Service Unavailable")
        .function(spec.id())
        .detail(
            "function '"
                + spec.id()
                + "' is at capacity ("
                + spec.maxInstances()
                + " instance(s) x concurrency "
                + spec.concurrency()
                + ") and its queue of "
                + spec.queueSize()
                + " is full; retry later or raise <max_instances>, <concurrency> or <queue_size>")
        .retryAfterSeconds(1)
        .build();
  }

  static Problem queueTimeout(FunctionSpec spec) {
    return Problem.of(503, "queue-timeout", "Service Unavailable")
        .function(spec.id())
        .detail(
            "no instance of function '"
                + spec.id()
                + "' became free within its queue_timeout of "
                + human(spec.queueTimeout())
                + "; retry later or raise <max_instances>")
        .retryAfterSeconds(1)
        .build();
  }

  static Problem startFailed(FunctionSpec spec, String reason, List<String> stderr) {
    return Problem.of(503, "start-failed", "Service Unavailable")
        .function(spec.id())
        .detail(
            "function '"
                + spec.id()
                + "' did not become ready: "
                + reason
                + ". Check its <executable>, <arg> and <working_dir> in the manifest and"
                + " its stderr (below and in the gateway log).")
        .stderr(stderr)
        .build();
  }

  static Problem crashed(FunctionSpec spec, String label, ExitStatus status, List<String> stderr) {
    return Problem.of(503, "function-crashed", "Service Unavailable")
        .function(spec.id())
        .detail(
            "function '"
                + spec.id()
                + "' keeps failing: instance "
                + label
                + " "
                + status.describe())
        .stderr(stderr)
        .build();
  }

  static Problem crashLoop(FunctionSpec spec, int failures, long retryAfterSeconds, Problem last) {
    return Problem.of(503, "crash-loop", "Service Unavailable")
        .function(spec.id())
        .detail(
            "function '"
                + spec.id()
                + "' failed "
                + failures
                + " times in a row; the gateway waits before starting it again (back-off)."
                + (last != null ? " Last failure: " + last.detail() : ""))
        .stderr(last != null ? last.stderr() : List.of())
        .retryAfterSeconds(retryAfterSeconds)
        .build();
  }

  /** The request timeout passed before the response started. */
  public static Problem timeout(FunctionSpec spec) {
    return Problem.of(504, "timeout", "Gateway Timeout")
        .function(spec.id())
        .detail(
            "function '"
                + spec.id()
                + "' did not answer within its request_timeout of "
                + human(spec.requestTimeout())
                + "; the instance was stopped. Raise <request_timeout> in the manifest if the"
                + " work legitimately takes longer.")
        .build();
  }

  /**
   * A call that failed before its response started. {@code exit} is the instance's exit status when
   * it died (null when it is alive or unknown), {@code stderr} its last lines.
   */
  public static Problem callFailed(
      FunctionSpec spec, String label, TransportException e, ExitStatus exit, List<String> stderr) {
    String what =
        switch (e.kind()) {
          case CHILD_FAILED, NOT_DELIVERED, NOT_READY ->
              exit != null
                  ? "instance " + label + " " + exit.describe() + " while handling the request"
                  : "the connection to instance " + label + " broke: " + e.getMessage();
          case PROTOCOL ->
              "instance " + label + " broke the protocol (" + e.getMessage() + "); it was replaced";
          case RESET -> "instance " + label + " aborted the request: " + e.getMessage();
          case HANDLER_ERROR -> "its handler failed on instance " + label + ": " + e.getMessage();
        };
    if (e.kind() == TransportException.Kind.HANDLER_ERROR) {
      // The function's own error, as API Gateway answers it: 500, with what the handler said.
      return Problem.of(500, "handler-error", "Internal Server Error")
          .function(spec.id())
          .detail("function '" + spec.id() + "' failed: " + what + ".")
          .build();
    }
    return Problem.of(
            502,
            e.kind() == TransportException.Kind.PROTOCOL ? "bad-child-response" : "function-failed",
            "Bad Gateway")
        .function(spec.id())
        .detail("function '" + spec.id() + "' failed: " + what + ".")
        .stderr(e.kind() == TransportException.Kind.RESET ? List.of() : stderr)
        .build();
  }

  /** A bug in the gateway: say so, and where to look. */
  public static Problem internal(String function, Throwable t) {
    return Problem.of(500, "internal-error", "Internal Server Error")
        .function(function)
        .detail("the gateway failed unexpectedly (" + t + "); see its log")
        .build();
  }

  static String human(Duration d) {
    if (d.toMillis() % 1000 != 0 || d.isZero()) {
      return d.toMillis() + "ms";
    }
    long s = d.toSeconds();
    return s % 60 == 0 && s >= 60 ? (s / 60) + "m" : s + "s";
  }
}
