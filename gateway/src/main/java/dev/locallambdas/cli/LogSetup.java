package dev.locallambdas.cli;

import java.time.LocalTime;
import java.time.format.DateTimeFormatter;
import java.util.logging.Formatter;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogManager;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * Readable one-line logs on stderr: "12:01:02.345 INFO function hello#1: ready (pid 42, 35 ms)".
 */
final class LogSetup {
  private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm:ss.SSS");

  // JUL holds loggers weakly: without a strong reference the level set below could be collected
  // with the logger, and every gateway logger would fall back to the root's WARNING.
  private static final Logger GATEWAY = Logger.getLogger("dev.locallambdas");
  private static final Logger ACCESS = Logger.getLogger("dev.locallambdas.access");

  private LogSetup() {}

  static void configure(Level level) {
    configure(level, false);
  }

  /** With {@code accessLog}, one logfmt line per request on stderr, whatever the level. */
  static void configure(Level level, boolean accessLog) {
    LogManager.getLogManager().reset();
    Logger root = Logger.getLogger("");
    Handler handler = new StderrHandler();
    handler.setLevel(Level.ALL);
    handler.setFormatter(new LineFormatter());
    root.addHandler(handler);
    root.setLevel(Level.WARNING); // libraries: warnings only
    GATEWAY.setLevel(level);
    ACCESS.setLevel(accessLog ? Level.INFO : Level.OFF);
  }

  /**
   * Writes each record to stderr at once; never closes stderr (ConsoleHandler would, if
   * re-pointed).
   */
  static final class StderrHandler extends Handler {
    @Override
    public void publish(LogRecord record) {
      if (!isLoggable(record)) {
        return;
      }
      String line = getFormatter().format(record);
      synchronized (System.err) {
        System.err.print(line);
        System.err.flush();
      }
    }

    @Override
    public void flush() {
      System.err.flush();
    }

    @Override
    public void close() {
      flush();
    }
  }

  static final class LineFormatter extends Formatter {
    @Override
    public String format(LogRecord r) {
      String name = r.getLoggerName() == null ? "" : r.getLoggerName();
      int dot = name.lastIndexOf('.');
      String component = dot >= 0 ? name.substring(dot + 1) : name;
      StringBuilder sb = new StringBuilder(128);
      sb.append(LocalTime.now(java.time.ZoneId.systemDefault()).format(TIME)).append(' ');
      sb.append(levelName(r.getLevel()));
      sb.append(' ').append(String.format("%-9s", component)).append(' ');
      sb.append(formatMessage(r)).append('\n');
      if (r.getThrown() != null && Logger.getLogger("dev.locallambdas").isLoggable(Level.FINE)) {
        java.io.StringWriter w = new java.io.StringWriter();
        r.getThrown().printStackTrace(new java.io.PrintWriter(w));
        sb.append(w);
      } else if (r.getThrown() != null) {
        sb.append("    caused by ").append(r.getThrown()).append('\n');
      }
      return sb.toString();
    }

    private static String levelName(Level l) {
      if (l.intValue() >= Level.SEVERE.intValue()) {
        return "ERROR";
      }
      if (l.intValue() >= Level.WARNING.intValue()) {
        return "WARN ";
      }
      if (l.intValue() >= Level.INFO.intValue()) {
        return "INFO ";
      }
      return "DEBUG";
    }
  }
}
