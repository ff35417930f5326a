package dev.locallambdas.cli;

import java.util.logging.LogManager;

/**
 * The JDK's LogManager resets (closes every handler) from its own shutdown hook, which races with
 * the gateway's shutdown hook: the drain and "stopped" lines would be lost. This one ignores the
 * reset that comes from that hook; handlers flush on every record, so nothing is lost at exit.
 */
public final class ShutdownSafeLogManager extends LogManager {
  @Override
  public void reset() {
    if (Thread.currentThread().getClass().getName().startsWith(LogManager.class.getName() + "$")) {
      return; // LogManager$Cleaner, the JDK's shutdown hook
    }
    super.reset();
  }
}
