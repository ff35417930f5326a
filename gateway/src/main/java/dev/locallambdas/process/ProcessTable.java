package dev.locallambdas.process;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.OptionalLong;

/**
 * Reads /proc (Linux) to find the processes that belong to a child without being its descendants
 * any more: members of its process group, and processes whose environment carries its marker. Both
 * survive re-parenting: an orphaned grandchild is no longer a descendant of the child, but it keeps
 * its process group (unless it calls setsid or setpgid) and its environment (unless it replaces
 * it).
 *
 * <p>Without /proc every answer is empty, and the gateway falls back to the process tree.
 */
final class ProcessTable {
  private static final Path PROC = Path.of("/proc");

  private ProcessTable() {}

  /**
   * The living (not zombie) processes, other than this JVM, that are in process group {@code group}
   * (ignored when 0 or less) or whose environment holds the entry {@code marker} ("NAME=VALUE",
   * ignored when null).
   */
  static List<ProcessHandle> find(long group, String marker) {
    byte[] entry = marker == null ? null : marker.getBytes(StandardCharsets.UTF_8);
    long self = ProcessHandle.current().pid();
    List<ProcessHandle> found = new ArrayList<>();
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(PROC, ProcessTable::isPid)) {
      for (Path dir : entries) {
        long pid = Long.parseLong(dir.getFileName().toString());
        if (pid == self) {
          continue;
        }
        Stat stat = Stat.of(dir);
        if (stat == null || stat.state == 'Z') {
          continue;
        }
        if ((group > 0 && stat.group == group) || (entry != null && hasEntry(dir, entry))) {
          ProcessHandle.of(pid).ifPresent(found::add);
        }
      }
    } catch (IOException e) {
      // no /proc: nothing found
    }
    return found;
  }

  /** The start time of process {@code pid} in clock ticks after boot (field 22 of its stat). */
  static OptionalLong startTicks(long pid) {
    Stat stat = Stat.of(PROC.resolve(Long.toString(pid)));
    return stat == null ? OptionalLong.empty() : OptionalLong.of(stat.startTicks);
  }

  /** The process group of process {@code pid}, when it exists. */
  static OptionalLong group(long pid) {
    Stat stat = Stat.of(PROC.resolve(Long.toString(pid)));
    return stat == null ? OptionalLong.empty() : OptionalLong.of(stat.group);
  }

  private static boolean isPid(Path p) {
    String name = p.getFileName().toString();
    if (name.isEmpty() || name.length() > 10) {
      return false;
    }
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      if (c < '0' || c > '9') {
        return false;
      }
    }
    return true;
  }

  /** True when the NUL-separated environment of the process holds exactly {@code entry}. */
  private static boolean hasEntry(Path dir, byte[] entry) {
    Path environ = dir.resolve("environ");
    // Readable only for processes of this user (the mode is 0400): checking first spares an
    // exception for each of the other users' processes.
    if (!Files.isReadable(environ)) {
      return false;
    }
    byte[] env;
    try {
      env = Files.readAllBytes(environ);
    } catch (IOException e) {
      return false; // exited, or not dumpable
    }
    int start = 0;
    while (start < env.length) {
      int end = start;
      while (end < env.length && env[end] != 0) {
        end++;
      }
      if (end - start == entry.length && Arrays.equals(env, start, end, entry, 0, entry.length)) {
        return true;
      }
      start = end + 1;
    }
    return false;
  }

  /** The fields of /proc/PID/stat the gateway needs. */
  private record Stat(char state, long group, long startTicks) {
    static Stat of(Path dir) {
      String stat;
      try {
        // Latin-1 decodes any byte: a command name that is not UTF-8 must not hide a process.
        stat = Files.readString(dir.resolve("stat"), StandardCharsets.ISO_8859_1);
      } catch (IOException | RuntimeException e) {
        return null; // gone, or no /proc
      }
      // The command name is in parentheses and may itself hold ')' and spaces: fields are
      // counted from after the last ')'. Field 3 is the state, 5 the process group, 22 the start
      // time.
      int close = stat.lastIndexOf(')');
      if (close < 0) {
        return null;
      }
      List<String> f = fields(stat, close + 2);
      if (f.size() < 20) {
        return null;
      }
      try {
        return new Stat(f.get(0).charAt(0), Long.parseLong(f.get(2)), Long.parseLong(f.get(19)));
      } catch (NumberFormatException | IndexOutOfBoundsException e) {
        return null;
      }
    }

    /** The space-separated fields of {@code line} from {@code from} on. */
    private static List<String> fields(String line, int from) {
      List<String> out = new ArrayList<>(52);
      int start = from;
      for (int i = from; i <= line.length(); i++) {
        if (i == line.length() || line.charAt(i) == ' ' || line.charAt(i) == '\n') {
          if (i > start) {
            out.add(line.substring(start, i));
          }
          start = i + 1;
        }
      }
      return out;
    }
  }
}
