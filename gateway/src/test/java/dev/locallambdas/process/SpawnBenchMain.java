package dev.locallambdas.process;

import java.io.File;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Where a child's launch time goes: bench/spawn.sh runs this. Each case starts {@code PROGRAM}
 * (default /bin/true) and waits until its exit is observed; the cases take turns, one sample each,
 * so that all of them see the same load on a shared machine. Prints the median, p10 and p90 in
 * microseconds and each median's ratio to the first case (the JDK starting the program directly).
 *
 * <p>Arguments: SAMPLES [PROGRAM ARGS...].
 */
public final class SpawnBenchMain {
  /**
   * The clean-up of the last child (a /proc scan for anything it left), waited for outside the
   * timed part: otherwise it would run during the next case's sample and slow that one down.
   */
  private static final ThreadLocal<CompletableFuture<Void>> SETTLING = new ThreadLocal<>();

  private SpawnBenchMain() {}

  /** Held: JUL keeps loggers weakly, and the level must stay set. */
  private static final Logger GATEWAY = Logger.getLogger("dev.locallambdas");

  public static void main(String[] args) throws Exception {
    // Each sample's exit and the variants' missing wrappers would be logged.
    GATEWAY.setLevel(Level.SEVERE);
    int samples = args.length > 0 ? Integer.parseInt(args[0]) : 200;
    List<String> program =
        args.length > 1 ? List.of(Arrays.copyOfRange(args, 1, args.length)) : List.of("/bin/true");
    Wrappers installed = Wrappers.installed();
    PosixSpawn posix = PosixSpawn.load().orElseThrow();
    Map<String, Callable<Void>> cases = new LinkedHashMap<>();
    cases.put(
        "JDK ProcessBuilder, program directly",
        () -> {
          new ProcessBuilder(program)
              .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
              .redirectOutput(ProcessBuilder.Redirect.DISCARD)
              .redirectError(ProcessBuilder.Redirect.DISCARD)
              .start()
              .waitFor();
          return null;
        });
    Path here = Path.of("").toAbsolutePath();
    cases.put(
        "posix_spawn (FFM), program directly",
        () -> {
          Process p = posix.start(program, System.getenv(), here);
          p.waitFor();
          p.getInputStream().close();
          p.getErrorStream().close();
          return null;
        });
    try (ChildLauncher jdkPlain = new ChildLauncher(Wrappers::none, false, false);
        ChildLauncher jdkFull = new ChildLauncher(() -> installed, true, false);
        ChildLauncher posixPlain = new ChildLauncher(Wrappers::none, false, true);
        ChildLauncher posixFull = new ChildLauncher(() -> installed, true, true)) {
      cases.put("ChildLauncher, JDK, no wrapper, no keeper", launch(jdkPlain, program));
      cases.put("ChildLauncher, JDK, setsid + setpriv, keeper", launch(jdkFull, program));
      cases.put("ChildLauncher, posix_spawn, no wrapper, no keeper", launch(posixPlain, program));
      cases.put("ChildLauncher, posix_spawn, setpriv, keeper", launch(posixFull, program));
      long now = ProcessTable.startTicks(ProcessHandle.current().pid()).orElse(0);
      cases.put(
          "ProcessTable.find, every environment",
          () -> {
            ProcessTable.find(1, "LOCAL_LAMBDAS_INSTANCE=none/none", 0);
            return null;
          });
      cases.put(
          "ProcessTable.find, as after a child's exit",
          () -> {
            ProcessTable.find(1, "LOCAL_LAMBDAS_INSTANCE=none/none", now);
            return null;
          });
      Map<String, long[]> times = new LinkedHashMap<>();
      cases.keySet().forEach(k -> times.put(k, new long[samples]));
      for (int warm = 0; warm < 20; warm++) {
        for (Callable<Void> c : cases.values()) {
          c.call();
          settle();
        }
      }
      for (int i = 0; i < samples; i++) {
        for (Map.Entry<String, Callable<Void>> c : cases.entrySet()) {
          long t0 = System.nanoTime();
          c.getValue().call();
          times.get(c.getKey())[i] = System.nanoTime() - t0;
          settle();
        }
      }
      System.out.printf(
          "program: %s, %d samples per case, %d processes in /proc, launch mechanism %s%n",
          String.join(" ", program),
          samples,
          processes(),
          System.getProperty("jdk.lang.Process.launchMechanism", "POSIX_SPAWN (default)"));
      System.out.printf("%-52s %9s %9s %9s %7s%n", "case", "p50 us", "p10 us", "p90 us", "ratio");
      double reference = -1;
      for (Map.Entry<String, long[]> e : times.entrySet()) {
        long[] t = e.getValue().clone();
        Arrays.sort(t);
        double p50 = t[t.length / 2] / 1000.0;
        if (reference < 0) {
          reference = p50;
        }
        System.out.printf(
            "%-52s %9.0f %9.0f %9.0f %7.2f%n",
            e.getKey(),
            p50,
            t[t.length / 10] / 1000.0,
            t[t.length * 9 / 10] / 1000.0,
            p50 / reference);
      }
    }
  }

  private static void settle() throws Exception {
    CompletableFuture<Void> last = SETTLING.get();
    if (last != null) {
      last.get(30, TimeUnit.SECONDS);
      SETTLING.remove();
    }
  }

  private static Callable<Void> launch(ChildLauncher launcher, List<String> program) {
    LaunchSpec spec =
        new LaunchSpec("bench", new ArrayList<>(program), null, Map.of(), Duration.ofSeconds(3));
    return () -> {
      ChildProcess child = launcher.start(spec);
      child.onExit().get(30, TimeUnit.SECONDS);
      SETTLING.set(child.settled());
      return null;
    };
  }

  private static long processes() {
    File[] entries =
        Path.of("/proc").toFile().listFiles((d, n) -> n.chars().allMatch(Character::isDigit));
    return entries == null ? 0 : entries.length;
  }
}
