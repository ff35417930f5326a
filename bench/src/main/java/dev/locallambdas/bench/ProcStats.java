package dev.locallambdas.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * CPU and memory of a process, read from /proc. CPU times are in clock ticks of 1/100 s (USER_HZ,
 * 100 on Linux x86-64 and arm64).
 */
record ProcStats(long pid, long cpuTicks, long childCpuTicks, long rssKib, long peakRssKib) {
  static final long TICK_MS = 10;

  /** This JVM. */
  static ProcStats self() {
    return of(ProcessHandle.current().pid());
  }

  /** The process, or null when it is gone (or /proc is not readable). */
  static ProcStats of(long pid) {
    try {
      String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
      // The command name (field 2) may contain spaces and parentheses: parse after the last ')'.
      String[] f = stat.substring(stat.lastIndexOf(')') + 2).trim().split(" ", -1);
      // f[0] is field 3 (state); utime, stime, cutime, cstime are fields 14-17.
      long utime = Long.parseLong(f[11]);
      long stime = Long.parseLong(f[12]);
      long cutime = Long.parseLong(f[13]);
      long cstime = Long.parseLong(f[14]);
      long rss = 0;
      long hwm = 0;
      for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
        if (line.startsWith("VmRSS:")) {
          rss = kib(line);
        } else if (line.startsWith("VmHWM:")) {
          hwm = kib(line);
        }
      }
      return new ProcStats(pid, utime + stime, cutime + cstime, rss, hwm);
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }

  private static long kib(String line) {
    return Long.parseLong(line.replaceAll("[^0-9]", ""));
  }

  long cpuMs() {
    return cpuTicks * TICK_MS;
  }
}
