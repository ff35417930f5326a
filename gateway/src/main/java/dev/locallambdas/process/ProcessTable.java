package dev.locallambdas.process;

import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
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
 * <p>A scan reads every process's stat file, and the environment only of processes started no
 * earlier than the child (nothing older can be its offspring), which spares reading the environment
 * of nearly everything else on the machine. Without /proc every answer is empty, and the gateway
 * falls back to the process tree.
 */
final class ProcessTable {
  private static final String PROC = "/proc";

  /** Enough for any stat line; an environment is read in pieces of this size. */
  private static final int BUFFER = 4096;

  private ProcessTable() {}

  /**
   * The living (not zombie) processes, other than this JVM, that are in process group {@code group}
   * (ignored when 0 or less) or whose environment holds the entry {@code marker} ("NAME=VALUE",
   * ignored when null) and that started at or after {@code notBeforeTicks} (clock ticks after boot,
   * as {@link #startTicks}).
   */
  static List<ProcessHandle> find(long group, String marker, long notBeforeTicks) {
    byte[] entry = marker == null ? null : marker.getBytes(StandardCharsets.UTF_8);
    long self = ProcessHandle.current().pid();
    byte[] buffer = new byte[BUFFER];
    List<ProcessHandle> found = new ArrayList<>();
    String[] names = new java.io.File(PROC).list();
    if (names == null) {
      return found; // no /proc: nothing found
    }
    for (String name : names) {
      long pid = pid(name);
      if (pid <= 0 || pid == self) {
        continue;
      }
      Stat stat = Stat.read(pid, buffer);
      if (stat == null || stat.state == 'Z') {
        continue;
      }
      if ((group > 0 && stat.group == group)
          || (entry != null && stat.startTicks >= notBeforeTicks && hasEntry(pid, entry, buffer))) {
        ProcessHandle.of(pid).ifPresent(found::add);
      }
    }
    return found;
  }

  /** The start time of process {@code pid} in clock ticks after boot (field 22 of its stat). */
  static OptionalLong startTicks(long pid) {
    Stat stat = Stat.read(pid, new byte[BUFFER]);
    return stat == null ? OptionalLong.empty() : OptionalLong.of(stat.startTicks);
  }

  /** The digits of a /proc entry as a pid, or -1 for any other entry. */
  private static long pid(String name) {
    if (name.isEmpty() || name.length() > 10) {
      return -1;
    }
    long pid = 0;
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      if (c < '0' || c > '9') {
        return -1;
      }
      pid = pid * 10 + (c - '0');
    }
    return pid;
  }

  /**
   * True when the NUL-separated environment of the process holds exactly {@code entry}. Entries
   * longer than the buffer are skipped, which no marker is.
   */
  private static boolean hasEntry(long pid, byte[] entry, byte[] buffer) {
    // Readable only for this user's processes (and root's for root): the open fails for others.
    try (InputStream in = new FileInputStream(PROC + "/" + pid + "/environ")) {
      int length = 0; // bytes of the current entry held at the start of the buffer
      boolean overlong = false;
      int n;
      while ((n = in.read(buffer, length, buffer.length - length)) > 0) {
        int end = length + n;
        int start = 0;
        for (int i = length; i < end; i++) {
          if (buffer[i] == 0) {
            if (!overlong && matches(buffer, start, i, entry)) {
              return true;
            }
            overlong = false;
            start = i + 1;
          }
        }
        length = end - start;
        if (length == buffer.length) {
          overlong = true; // longer than the buffer: cannot be the marker
          length = 0;
        } else {
          System.arraycopy(buffer, start, buffer, 0, length);
        }
      }
      return length > 0 && !overlong && matches(buffer, 0, length, entry);
    } catch (IOException e) {
      return false; // another user's, exited, or not dumpable
    }
  }

  private static boolean matches(byte[] buffer, int from, int to, byte[] entry) {
    return to - from == entry.length && Arrays.equals(buffer, from, to, entry, 0, entry.length);
  }

  /** The fields of /proc/PID/stat the gateway needs. */
  private record Stat(char state, long group, long startTicks) {
    static Stat read(long pid, byte[] buffer) {
      int length = 0;
      try (InputStream in = new FileInputStream(PROC + "/" + pid + "/stat")) {
        int n;
        while (length < buffer.length
            && (n = in.read(buffer, length, buffer.length - length)) > 0) {
          length += n;
        }
      } catch (IOException e) {
        return null; // gone, or no /proc
      }
      // The command name is in parentheses and may itself hold ')' and spaces: fields are counted
      // from after the last ')'. Field 3 is the state, 5 the process group, 22 the start time.
      int close = length - 1;
      while (close >= 0 && buffer[close] != ')') {
        close--;
      }
      if (close < 0 || close + 2 >= length) {
        return null;
      }
      char state = (char) buffer[close + 2];
      long group = -1;
      long start = -1;
      int field = 3; // the number of the last field read; the next starts at close + 4
      long value = 0;
      for (int i = close + 4; i <= length; i++) {
        byte b = i < length ? buffer[i] : (byte) ' ';
        if (b == ' ' || b == '\n') {
          field++;
          if (field == 5) {
            group = value;
          } else if (field == 22) {
            start = value;
            break;
          }
          value = 0;
        } else if (b >= '0' && b <= '9') {
          value = value * 10 + (b - '0');
        }
      }
      return group < 0 || start < 0 ? null : new Stat(state, group, start);
    }
  }
}
