package dev.locallambdas.transport.legacy;

import dev.locallambdas.transport.TransportException;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.logging.Logger;

/**
 * What one instance of a legacy child answered oddly. The first oddity of each kind is a warning,
 * so a child that answers {@code "status": "404"} to every request says so once, not a thousand
 * times; repeats go to the debug level.
 */
final class LegacyAnswerLog {
  private static final Logger LOG = Logger.getLogger("dev.locallambdas.transport.legacy");

  private final Set<String> warned = ConcurrentHashMap.newKeySet();

  /** An answer relayed in spite of {@code what}, as the original local_lambdas relayed it. */
  void relayed(String kind, String what) {
    log(kind, what + ".");
  }

  /**
   * An answer that cannot be relayed: the request fails with 502, and the instance, which answered
   * and is still serving, stays in service.
   */
  TransportException refuse(String kind, String what) {
    log(kind, what + ": the request got 502; the instance stays in service.");
    return new TransportException(TransportException.Kind.RESET, what);
  }

  private void log(String kind, String message) {
    if (warned.add(kind)) {
      LOG.warning(message + " (Logged once per instance; repeats at debug level.)");
    } else {
      LOG.fine(message);
    }
  }
}
