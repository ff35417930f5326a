package dev.locallambdas.process;

import java.util.List;

/**
 * How a child process ended.
 *
 * <p>Java reports a process killed by signal N as exit value 128 + N, the same number a process
 * gets by calling {@code exit(128 + N)} itself (as shells do when their own child was killed). The
 * two cannot be told apart, so {@link #of(int)} reads exit values 129 to 159 as the standard
 * signals 1 to 31 and {@link #describe()} names both possibilities, e.g. "killed by signal 9
 * (SIGKILL) or exited with status 137".
 *
 * @param code the exit value as Java reports it, 0 to 255
 * @param signal the signal the value stands for, 1 to 31, or 0 when it stands for none
 */
public record ExitStatus(int code, int signal) {
  private static final int SIGNAL_BASE = 128;

  /** Linux names of signals 1 to 31, in order. */
  private static final List<String> SIGNAL_NAMES =
      List.of(
          ("SIGHUP SIGINT SIGQUIT SIGILL SIGTRAP SIGABRT SIGBUS SIGFPE SIGKILL SIGUSR1 SIGSEGV"
                  + " SIGUSR2 SIGPIPE SIGALRM SIGTERM SIGSTKFLT SIGCHLD SIGCONT SIGSTOP SIGTSTP"
                  + " SIGTTIN SIGTTOU SIGURG SIGXCPU SIGXFSZ SIGVTALRM SIGPROF SIGWINCH SIGIO"
                  + " SIGPWR SIGSYS")
              .split(" "));

  public ExitStatus {
    if (code < 0 || code > 255) {
      throw new IllegalArgumentException("exit code must be 0 to 255, got " + code);
    }
    if (signal != 0
        && (signal < 0 || signal > SIGNAL_NAMES.size() || code != SIGNAL_BASE + signal)) {
      throw new IllegalArgumentException(
          "signal must be 0 or 1 to 31 with code 128 + signal, got signal "
              + signal
              + " with code "
              + code);
    }
  }

  /** The status for an exit value as returned by {@link Process#exitValue()}. */
  public static ExitStatus of(int exitValue) {
    int signal = exitValue - SIGNAL_BASE;
    return signal > 0 && signal <= SIGNAL_NAMES.size()
        ? new ExitStatus(exitValue, signal)
        : new ExitStatus(exitValue, 0);
  }

  /** True when the exit value stands for a signal (see the class comment for the ambiguity). */
  public boolean bySignal() {
    return signal != 0;
  }

  /** "exited with status 3", or "killed by signal 9 (SIGKILL) or exited with status 137". */
  public String describe() {
    if (signal == 0) {
      return "exited with status " + code;
    }
    return "killed by signal "
        + signal
        + " ("
        + SIGNAL_NAMES.get(signal - 1)
        + ") or exited with status "
        + code;
  }
}
