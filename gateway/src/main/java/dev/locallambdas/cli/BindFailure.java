package dev.locallambdas.cli;

import io.netty.channel.unix.Errors;
import java.io.IOException;
import java.net.BindException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.List;
import java.util.Optional;

/**
 * Says in words why the front door could not listen on an address, from the error the system gave
 * (Netty's epoll transport reports it as "bind(..) failed with error(-99)", the JDK as a
 * BindException).
 */
final class BindFailure {
  private static final int EACCES = 13;
  private static final int EADDRINUSE = 98;
  private static final int EADDRNOTAVAIL = 99;

  private BindFailure() {}

  /** The explanation, or empty when {@code failure} is not a refused bind. */
  static Optional<String> explain(InetSocketAddress address, Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause()) {
      int errno = errno(t);
      if (errno == 0) {
        continue;
      }
      String where = "cannot listen on " + BindAddress.format(address) + ": ";
      String host = BindAddress.formatHost(address.getAddress());
      return switch (errno) {
        case EADDRINUSE ->
            Optional.of(
                where
                    + "another process is already listening on that address; stop it, or pass"
                    + " --bind "
                    + host
                    + ":PORT with another port (ss -ltnp shows which process listens)");
        case EADDRNOTAVAIL ->
            Optional.of(
                where
                    + host
                    + " is not an address of this machine; use 127.0.0.1 (this machine only),"
                    + " 0.0.0.0 (every interface)"
                    + localAddresses(address.getAddress()));
        case EACCES -> Optional.of(where + permission(address.getPort()));
        default -> Optional.empty();
      };
    }
    return Optional.empty();
  }

  private static int errno(Throwable t) {
    if (t instanceof Errors.NativeIoException n) {
      return Math.abs(n.expectedErr());
    }
    if (t instanceof BindException || t instanceof SocketException) {
      String message = String.valueOf(t.getMessage());
      if (message.contains("Address already in use")) {
        return EADDRINUSE;
      }
      if (message.contains("Cannot assign requested address")) {
        return EADDRNOTAVAIL;
      }
      if (message.contains("Permission denied")) {
        return EACCES;
      }
    }
    return 0;
  }

  private static String permission(int port) {
    int lowest = unprivilegedPortStart();
    if (port < lowest) {
      return "ports below "
          + lowest
          + " need root or the CAP_NET_BIND_SERVICE capability; use a port from "
          + lowest
          + " up, e.g. --bind 127.0.0.1:3000, and put a proxy in front if it must be "
          + port;
    }
    return "the system refused permission (a security policy such as SELinux, AppArmor or a"
        + " container's seccomp profile); check its log, or try another address";
  }

  /** The lowest port anyone may bind: 1024 unless net.ipv4.ip_unprivileged_port_start says. */
  private static int unprivilegedPortStart() {
    try {
      // Not Files.readString: on this sysctl file (size 0) it returned "1" of "1024" (JDK 25).
      List<String> lines =
          Files.readAllLines(Path.of("/proc/sys/net/ipv4/ip_unprivileged_port_start"));
      return lines.isEmpty() ? 1024 : Integer.parseInt(lines.getFirst().strip());
    } catch (IOException | NumberFormatException e) {
      return 1024;
    }
  }

  /** ", or one of its addresses: A, B" for the machine's addresses of the same family. */
  private static String localAddresses(InetAddress like) {
    List<String> found = new ArrayList<>();
    try {
      Enumeration<NetworkInterface> interfaces = NetworkInterface.getNetworkInterfaces();
      while (interfaces != null && interfaces.hasMoreElements()) {
        NetworkInterface i = interfaces.nextElement();
        if (!i.isUp() || i.isLoopback()) {
          continue;
        }
        Enumeration<InetAddress> addresses = i.getInetAddresses();
        while (addresses.hasMoreElements()) {
          InetAddress a = addresses.nextElement();
          if ((a instanceof Inet6Address) == (like instanceof Inet6Address)
              && !a.isLinkLocalAddress()) {
            found.add(BindAddress.formatHost(a));
          }
        }
      }
    } catch (SocketException e) {
      return "";
    }
    return found.isEmpty() ? "" : ", or one of its addresses: " + String.join(", ", found);
  }
}
