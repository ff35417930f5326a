package dev.locallambdas.bench;

import java.io.PrintStream;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * A one-line progress bar on stderr: overall steps done, the current step's label and its own
 * fraction. Redrawn by a daemon thread four times a second; silent when disabled.
 */
final class Progress implements AutoCloseable {
  private static final int WIDTH = 30;

  private final PrintStream err;
  private final boolean enabled;
  private final int steps;
  private final long startNanos = System.nanoTime();
  private volatile int step;
  private volatile String label = "";
  private volatile double fraction;
  private volatile boolean closed;
  private final Thread painter;

  Progress(PrintStream err, boolean enabled, int steps) {
    this.err = err;
    this.enabled = enabled;
    this.steps = Math.max(1, steps);
    if (enabled) {
      painter = new Thread(this::paintLoop, "bench-progress");
      painter.setDaemon(true);
      painter.setUncaughtExceptionHandler((t, e) -> {});
      painter.start();
    } else {
      painter = null;
    }
  }

  /** Starts the next step. */
  void begin(String stepLabel) {
    label = stepLabel;
    fraction = 0;
  }

  void fraction(double f) {
    fraction = Math.max(0, Math.min(1, f));
  }

  void end() {
    step = Math.min(steps, step + 1);
    fraction = 0;
  }

  private void paintLoop() {
    while (!closed) {
      paint();
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(250));
    }
  }

  private synchronized void paint() {
    double overall = (step + fraction) / steps;
    int filled = (int) Math.round(overall * WIDTH);
    long secs = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - startNanos);
    String text =
        String.format(
            "\r[%s%s] %3d%% %d/%d %-40s %3ds",
            "#".repeat(filled),
            ".".repeat(WIDTH - filled),
            Math.round(overall * 100),
            Math.min(step + 1, steps),
            steps,
            truncate(label),
            secs);
    err.print(text);
    err.flush();
  }

  private static String truncate(String s) {
    return s.length() > 40 ? s.substring(0, 40) : s;
  }

  /** Prints a line above the bar. */
  synchronized void log(String line) {
    if (enabled) {
      err.print("\r" + " ".repeat(WIDTH + 60) + "\r");
    }
    err.println(line);
  }

  @Override
  public void close() {
    closed = true;
    if (painter != null) {
      painter.interrupt();
      synchronized (this) {
        step = steps;
        fraction = 0;
        label = "done";
      }
      paint();
      err.println();
    }
  }
}
