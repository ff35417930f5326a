package dev.locallambdas.transport.http;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.OptionalLong;
import java.util.Set;
import java.util.function.Predicate;
import java.util.stream.Stream;

/**
 * Loopback ports for children with their own server: allocation, and (on Linux) a check that the
 * server answering on a port really is the child. Allocation can race with other programs taking
 * the same port before the child binds it; the ownership check turns that race into a clear
 * NOT_READY instead of proxying requests to a stranger.
 */
public final class HttpPorts {
  private static final Path PROC = Path.of("/proc");
  private static final String LISTEN = "0A";
  private static final String ESTABLISHED = "01";
  // Local addresses that receive a connection to 127.0.0.1: 127.0.0.1, 0.0.0.0, :: and
  // ::ffff:127.0.0.1.
  private static final Set<String> LOOPBACK_REACHABLE =
      Set.of(
          "0100007F",
          "00000000",
          "00000000000000000000000000000000",
          "0000000000000000FFFF00000100007F");

  private HttpPorts() {}

  /** A loopback port that was free a moment ago (bound to 127.0.0.1:0, read, closed). */
  public static int allocateLoopback() throws IOException {
    try (ServerSocket s = new ServerSocket()) {
      s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
      return s.getLocalPort();
    }
  }

  /**
   * Empty when the listening sockets on {@code port} belong to {@code child} or its descendants, or
   * when that cannot be told (not Linux, entries not readable). Otherwise the pid of the process
   * holding the port, or -1 when the listener belongs to someone else whose pid is not visible.
   */
  public static OptionalLong foreignListener(int port, ProcessHandle child) {
    Set<String> inodes = listeningInodes(port);
    if (inodes.isEmpty()) {
      return OptionalLong.empty();
    }
    List<ProcessHandle> family = new ArrayList<>();
    family.add(child);
    try (Stream<ProcessHandle> d = child.descendants()) {
      d.forEach(family::add);
    }
    Set<String> owned = new HashSet<>();
    for (ProcessHandle p : family) {
      owned.addAll(socketInodes(p.pid(), inodes));
    }
    if (owned.containsAll(inodes)) {
      return OptionalLong.empty();
    }
    Set<String> foreign = new HashSet<>(inodes);
    foreign.removeAll(owned);
    return OptionalLong.of(ownerOf(foreign));
  }

  /**
   * Whether the established loopback connection from {@code peerPort} to {@code localPort} is held
   * by {@code child} or one of its descendants; null when that cannot be told (not Linux, the
   * connection not found).
   */
  public static Boolean connectionOwnedBy(int localPort, int peerPort, ProcessHandle child) {
    Set<String> inodes = connectionInodes(peerPort, localPort);
    if (inodes.isEmpty()) {
      return null;
    }
    List<ProcessHandle> family = new ArrayList<>();
    family.add(child);
    try (Stream<ProcessHandle> d = child.descendants()) {
      d.forEach(family::add);
    }
    for (ProcessHandle p : family) {
      if (!socketInodes(p.pid(), inodes).isEmpty()) {
        return true;
      }
    }
    return false;
  }

  /** The inodes of established sockets from {@code from} to {@code to} (ports). */
  private static Set<String> connectionInodes(int from, int to) {
    return inodes(f -> f[3].equals(ESTABLISHED) && port(f[1]) == from && port(f[2]) == to);
  }

  /** The inodes of listening sockets on {@code port} that a connection to 127.0.0.1 reaches. */
  private static Set<String> listeningInodes(int port) {
    return inodes(
        f ->
            f[3].equals(LISTEN)
                && LOOPBACK_REACHABLE.contains(f[1].substring(0, f[1].indexOf(':')))
                && port(f[1]) == port);
  }

  private static int port(String hexAddress) {
    return Integer.parseInt(hexAddress.substring(hexAddress.indexOf(':') + 1), 16);
  }

  /** The inodes of the IPv4 and IPv6 TCP sockets whose /proc/net/tcp* fields match. */
  private static Set<String> inodes(Predicate<String[]> match) {
    Set<String> out = new HashSet<>();
    for (String table : List.of("net/tcp", "net/tcp6")) {
      List<String> lines;
      try {
        lines = Files.readAllLines(PROC.resolve(table));
      } catch (IOException e) {
        continue;
      }
      for (int i = 1; i < lines.size(); i++) {
        // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
        String[] f = lines.get(i).trim().split("\\s+", -1);
        try {
          if (f.length >= 10 && !f[9].equals("0") && match.test(f)) {
            out.add(f[9]);
          }
        } catch (NumberFormatException | StringIndexOutOfBoundsException e) {
          // A line this parser does not understand cannot name our socket.
        }
      }
    }
    return out;
  }

  /** The inodes among {@code wanted} for which the process has a "socket:[inode]" descriptor. */
  private static Set<String> socketInodes(long pid, Set<String> wanted) {
    Set<String> found = new HashSet<>();
    try (DirectoryStream<Path> fds = Files.newDirectoryStream(PROC.resolve(pid + "/fd"))) {
      for (Path fd : fds) {
        String inode = socketInode(fd);
        if (inode != null && wanted.contains(inode)) {
          found.add(inode);
        }
      }
    } catch (IOException | SecurityException e) {
      // The process exited or is not ours to inspect: it holds nothing we can see.
    }
    return found;
  }

  private static String socketInode(Path fd) {
    try {
      String link = Files.readSymbolicLink(fd).toString();
      if (link.startsWith("socket:[") && link.endsWith("]")) {
        return link.substring(8, link.length() - 1);
      }
    } catch (IOException | UnsupportedOperationException e) {
      // The descriptor was closed while we looked.
    }
    return null;
  }

  private static long ownerOf(Set<String> inodes) {
    try (DirectoryStream<Path> procs = Files.newDirectoryStream(PROC, "[0-9]*")) {
      for (Path p : procs) {
        long pid;
        try {
          pid = Long.parseLong(p.getFileName().toString());
        } catch (NumberFormatException e) {
          continue;
        }
        if (!socketInodes(pid, inodes).isEmpty()) {
          return pid;
        }
      }
    } catch (IOException e) {
      // Without a process list the owner stays unknown.
    }
    return -1;
  }

  /**
   * Whether a Unix socket bound to {@code path} is listening, from /proc/net/unix; null when that
   * cannot be told (not Linux).
   */
  public static Boolean unixListening(Path path) {
    List<String> lines;
    try {
      lines = Files.readAllLines(PROC.resolve("net/unix"));
    } catch (IOException e) {
      return null;
    }
    String wanted = path.toString();
    for (int i = 1; i < lines.size(); i++) {
      // Num RefCount Protocol Flags Type St Inode Path; flag 0x10000 is __SO_ACCEPTCON (listening).
      String[] f = lines.get(i).trim().split("\\s+", 8);
      if (f.length == 8 && f[7].equals(wanted)) {
        try {
          if ((Long.parseLong(f[3], 16) & 0x10000L) != 0) {
            return true;
          }
        } catch (NumberFormatException e) {
          // Not a line this parser understands.
        }
      }
    }
    return false;
  }
}
