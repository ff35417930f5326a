package dev.locallambdas.transport.http;

import dev.locallambdas.transport.TransportException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.SocketAddress;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.OptionalLong;
import java.util.function.LongSupplier;

/**
 * Waits for a child that cannot announce itself (it only starts listening) by polling with a fine
 * back-off: 1 ms doubling to 20 ms, so a fast child is seen ready within a millisecond or two and a
 * slow one costs at most 50 polls a second.
 */
public final class HttpReadiness {
  private static final long FIRST_PAUSE_NANOS = 1_000_000L;
  private static final long LONGEST_PAUSE_NANOS = 20_000_000L;

  /** One polling attempt: true when the child is ready; throws to give up at once. */
  public interface Attempt {
    boolean ready() throws IOException;
  }

  private final LongSupplier nanos;

  public HttpReadiness(LongSupplier nanos) {
    this.nanos = nanos;
  }

  /**
   * Polls until {@code attempt} succeeds. Fails with NOT_READY when the process exits first or the
   * timeout passes; {@code goal} completes the messages, e.g. "accept connections on
   * 127.0.0.1:41234", and {@code lastProblem} (may return null) adds the last reason seen.
   */
  public void await(
      String label,
      String goal,
      Duration timeout,
      ProcessHandle process,
      Attempt attempt,
      java.util.function.Supplier<String> lastProblem)
      throws IOException, InterruptedException {
    long start = nanos.getAsLong();
    long budget = timeout.toNanos();
    long pause = FIRST_PAUSE_NANOS;
    while (true) {
      if (attempt.ready()) {
        return;
      }
      if (!process.isAlive()) {
        throw new TransportException(
            TransportException.Kind.NOT_READY,
            label + " exited before it did " + goal + suffix(lastProblem));
      }
      long left = budget - (nanos.getAsLong() - start);
      if (left <= 0) {
        throw new TransportException(
            TransportException.Kind.NOT_READY,
            label + " did not " + goal + " within " + format(timeout) + suffix(lastProblem));
      }
      if (Thread.interrupted()) {
        throw new InterruptedException("interrupted while waiting for " + label);
      }
      Thread.sleep(Duration.ofNanos(Math.min(pause, left)));
      pause = Math.min(pause * 2, LONGEST_PAUSE_NANOS);
    }
  }

  private static String suffix(java.util.function.Supplier<String> lastProblem) {
    String p = lastProblem == null ? null : lastProblem.get();
    return p == null ? "" : " (last: " + p + ")";
  }

  public static String format(Duration d) {
    if (d.toNanos() % 1_000_000_000L == 0) {
      return d.toSeconds() + "s";
    }
    return d.toMillis() + "ms";
  }

  /**
   * One connect attempt: true when something accepts connections at {@code address}; otherwise
   * false, with the reason handed to {@code problem}.
   */
  public static boolean connects(
      SocketAddress address, String label, java.util.function.Consumer<String> problem)
      throws IOException {
    try (SocketChannel probe = SocketChannel.open(address)) {
      return probe.isConnected();
    } catch (ClosedByInterruptException e) {
      throw interrupted("waiting for " + label, e);
    } catch (IOException e) {
      problem.accept(e.getMessage());
      return false;
    }
  }

  /**
   * Throws NOT_READY when the server listening on {@code port} is not the child or its descendant.
   */
  public static void requireOwnPort(String label, int port, ProcessHandle process)
      throws TransportException {
    OptionalLong other = HttpPorts.foreignListener(port, process);
    if (other.isPresent()) {
      throw new TransportException(
          TransportException.Kind.NOT_READY,
          label
              + ": port "
              + port
              + " is taken by another process"
              + (other.getAsLong() > 0 ? " (pid " + other.getAsLong() + ")" : ""));
    }
  }

  /**
   * Maps an interrupt seen as ClosedByInterruptException into the Endpoint contract's exception.
   */
  public static InterruptedIOException interrupted(String what, IOException cause) {
    InterruptedIOException e = new InterruptedIOException("interrupted while " + what);
    e.initCause(cause);
    return e;
  }
}
