package dev.locallambdas.cli;

import dev.locallambdas.reload.Reloader;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.logging.Logger;

/**
 * SIGHUP reloads the manifest (docs/reload.md), as it does for nginx and most daemons. Without a
 * handler the JVM would treat SIGHUP like SIGTERM and shut down. SIGINT and SIGTERM keep the JVM's
 * own handling (the shutdown hook drains). The handler is {@code sun.misc.Signal}'s, from module
 * jdk.unsupported (exported for exactly this), reached reflectively because javac warns about every
 * direct use and the build keeps zero warnings.
 */
final class HangUp {
  private static final Logger LOG = Logger.getLogger("dev.locallambdas.server");

  private HangUp() {}

  static void reloadOn(Reloader reloader) {
    try {
      Class<?> signal = Class.forName("sun.misc.Signal");
      Class<?> handler = Class.forName("sun.misc.SignalHandler");
      Object hup = signal.getConstructor(String.class).newInstance("HUP");
      Object onHup =
          Proxy.newProxyInstance(
              handler.getClassLoader(),
              new Class<?>[] {handler},
              (proxy, method, args) -> answer(proxy, method, args, reloader));
      signal.getMethod("handle", signal, handler).invoke(null, hup, onHup);
    } catch (ReflectiveOperationException | IllegalArgumentException e) {
      // No such signal here, or it is ignored (nohup): the file and the admin API still reload.
      Throwable cause = e instanceof InvocationTargetException t ? t.getCause() : e;
      LOG.fine(() -> "SIGHUP cannot be handled here: " + cause);
    }
  }

  @SuppressWarnings("ReferenceEquality") // a proxy is equal to itself only
  private static Object answer(Object proxy, Method method, Object[] args, Reloader reloader) {
    return switch (method.getName()) {
      case "handle" -> {
        reloader.reloadInBackground("SIGHUP");
        yield null;
      }
      case "hashCode" -> System.identityHashCode(proxy);
      case "equals" -> args != null && args.length == 1 && args[0] == proxy;
      default -> "SIGHUP handler";
    };
  }
}
