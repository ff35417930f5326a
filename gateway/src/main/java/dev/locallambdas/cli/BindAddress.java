package dev.locallambdas.cli;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;

/** Parses HOST:PORT (IPv6 as [::1]:PORT) from --bind or BIND_ADDRESS. */
final class BindAddress {
  static final String DEFAULT = "127.0.0.1:3000";

  private BindAddress() {}

  static InetSocketAddress resolve(String option, String environment) {
    if (option != null) {
      return parse("--bind", option);
    }
    if (environment != null && !environment.isBlank()) {
      return parse("BIND_ADDRESS", environment);
    }
    return parse("default", DEFAULT);
  }

  static InetSocketAddress parse(String source, String text) {
    String t = text.trim();
    int colon = t.lastIndexOf(':');
    if (colon <= 0 || colon == t.length() - 1) {
      throw new IllegalArgumentException(
          source + " '" + text + "' is not HOST:PORT, e.g. 127.0.0.1:3000");
    }
    String host = t.substring(0, colon);
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    } else if (host.indexOf(':') >= 0) {
      throw new IllegalArgumentException(
          source + " '" + text + "': write IPv6 addresses in brackets, e.g. [::1]:3000");
    }
    int port;
    try {
      port = Integer.parseInt(t.substring(colon + 1));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(source + " '" + text + "': the port is not a number");
    }
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException(
          source + " '" + text + "': the port must be between 0 and 65535");
    }
    InetSocketAddress a = new InetSocketAddress(host, port);
    if (a.isUnresolved()) {
      throw new IllegalArgumentException(
          source + " '" + text + "': cannot resolve host '" + host + "'");
    }
    return a;
  }

  /** HOST:PORT as the user writes it: IPv6 in brackets, no resolved name in front. */
  static String format(InetSocketAddress a) {
    return (a.getAddress() == null ? a.getHostString() : formatHost(a.getAddress()))
        + ":"
        + a.getPort();
  }

  /** An address as the user writes it in --bind: IPv6 in brackets. */
  static String formatHost(InetAddress a) {
    return a instanceof Inet6Address ? "[" + a.getHostAddress() + "]" : a.getHostAddress();
  }
}
