package dev.locallambdas.bench;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * What one benchmark run does, validated when built. Empty lists switch a mode off: {@code cases}
 * the five cases, {@code concurrency} the closed-loop load, {@code rate} (0) the open loop, {@code
 * payloadBytes} (0) the large-payload run.
 */
record Settings(
    Path manifest,
    Path out,
    List<Integer> cases,
    List<String> runtimes,
    int requests,
    int coldRequests,
    int warmup,
    List<Integer> concurrency,
    Duration duration,
    double rate,
    int rateConnections,
    int payloadBytes,
    int payloadConcurrency,
    List<Target> targets,
    boolean progress) {

  Settings {
    for (int c : cases) {
      if (c < 1 || c > 5) {
        throw new IllegalArgumentException(
            "--cases: " + c + " is not a case; the cases are 1 to 5");
      }
    }
    for (String r : runtimes) {
      if (!r.equals("python") && !r.equals("java")) {
        throw new IllegalArgumentException("--runtimes: '" + r + "' is not python or java");
      }
    }
    positive("--requests", requests);
    positive("--cold-requests", coldRequests);
    if (warmup < 0) {
      throw new IllegalArgumentException("--warmup must be 0 or more, not " + warmup);
    }
    for (int c : concurrency) {
      positive("--concurrency", c);
    }
    if (duration.isNegative() || duration.isZero()) {
      throw new IllegalArgumentException("--duration must be positive, not " + duration);
    }
    if (rate < 0) {
      throw new IllegalArgumentException("--rate must be positive, not " + rate);
    }
    positive("--connections", rateConnections);
    if (payloadBytes < 0) {
      throw new IllegalArgumentException("--payload must be positive, not " + payloadBytes);
    }
    positive("payload concurrency", payloadConcurrency);
    cases = List.copyOf(cases);
    runtimes = List.copyOf(runtimes);
    concurrency = List.copyOf(concurrency);
    targets = List.copyOf(targets);
  }

  private static void positive(String what, long v) {
    if (v <= 0) {
      throw new IllegalArgumentException(what + " must be positive, not " + v);
    }
  }
}
