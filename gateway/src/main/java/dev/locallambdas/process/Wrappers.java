package dev.locallambdas.process;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The util-linux programs a child is started through, each of which execs the next (same pid):
 *
 * <ul>
 *   <li>{@code setsid}: the child leads a session and a process group of its own, so signals a
 *       terminal sends to the gateway's foreground process group (Ctrl-C, Ctrl-\, Ctrl-Z, hang-up)
 *       never reach it, and the gateway can signal the child's whole group at once. util-linux
 *       setsid forks only when its caller already leads a process group, which a process the JVM
 *       has just spawned never does, so the pid the gateway holds stays the child's.
 *   <li>{@code setpriv --pdeathsig KILL}: the kernel kills the child when the gateway dies, however
 *       it dies (even by SIGKILL), and even when the child knows nothing of the gateway. The
 *       setting survives exec (of programs that are not set-user-ID) but not fork. The kernel sends
 *       the signal when the <em>thread</em> that forked the child exits, which is why all spawning
 *       happens on one long-lived thread (see {@link Spawner}).
 * </ul>
 *
 * <p>Grandchildren are covered by the keeper instead (see {@link Keeper}).
 *
 * @param setsid util-linux setsid, when found
 * @param setpriv util-linux setpriv supporting --pdeathsig, when found
 */
record Wrappers(Optional<Path> setsid, Optional<Path> setpriv) {
  private static final Logger LOG = Logger.getLogger("dev.locallambdas.process");

  /** No wrapper: children share the gateway's process group and outlive it if it is killed. */
  static Wrappers none() {
    return new Wrappers(Optional.empty(), Optional.empty());
  }

  /** The wrappers installed on this machine, looked for once per JVM. */
  static Wrappers installed() {
    return Holder.INSTALLED;
  }

  /** The command prefix that runs a program through the wrappers found. */
  List<String> prefix() {
    List<String> prefix = new ArrayList<>(5);
    setsid.ifPresent(path -> prefix.add(path.toString()));
    prefix.addAll(parentDeathPrefix());
    return List.copyOf(prefix);
  }

  /** The prefix that arms the parent-death signal only (a new session is made otherwise). */
  List<String> parentDeathPrefix() {
    return setpriv
        .map(path -> List.of(path.toString(), "--pdeathsig", "KILL", "--"))
        .orElse(List.of());
  }

  /**
   * What is missing and what it costs, for a warning; empty when nothing needed is missing. setsid
   * is not needed for children when {@code sessionsWithoutSetsid} (posix_spawn makes their
   * sessions), only for the keeper, which ignores the terminal's signals without it too.
   */
  Optional<String> missing(boolean sessionsWithoutSetsid) {
    boolean setsidMissing = setsid.isEmpty() && !sessionsWithoutSetsid;
    if (!setsidMissing && setpriv.isPresent()) {
      return Optional.empty();
    }
    List<String> consequences = new ArrayList<>();
    if (setsidMissing) {
      consequences.add(
          "setsid was not found, so children share the gateway's process group: Ctrl-C in a"
              + " terminal reaches them directly and cuts in-flight requests");
    }
    if (setpriv.isEmpty()) {
      consequences.add(
          "setpriv with --pdeathsig was not found, so a child whose keeper is also gone outlives"
              + " a killed gateway");
    }
    return Optional.of(
        String.join("; ", consequences)
            + " (looked in /usr/bin and on PATH); install the util-linux package");
  }

  private static final class Holder {
    static final Wrappers INSTALLED =
        new Wrappers(find("setsid", "--fork"), find("setpriv", "pdeathsig"));
  }

  /**
   * The first executable {@code name} in /usr/bin or on PATH whose {@code --help} mentions {@code
   * mark}: BusyBox and other look-alikes have different options or fork differently.
   */
  private static Optional<Path> find(String name, String mark) {
    List<Path> candidates = new ArrayList<>();
    candidates.add(Path.of("/usr/bin", name));
    String path = System.getenv("PATH");
    if (path != null) {
      for (String dir : path.split(File.pathSeparator, -1)) {
        if (!dir.isEmpty()) {
          try {
            candidates.add(Path.of(dir, name));
          } catch (InvalidPathException e) {
            // an unusable PATH entry cannot hold the program
          }
        }
      }
    }
    for (Path candidate : candidates) {
      if (Files.isRegularFile(candidate)
          && Files.isExecutable(candidate)
          && helpMentions(candidate, mark)) {
        return Optional.of(candidate);
      }
    }
    return Optional.empty();
  }

  private static boolean helpMentions(Path program, String mark) {
    Process p = null;
    try {
      p =
          new ProcessBuilder(program.toString(), "--help")
              .redirectErrorStream(true)
              .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
              .start();
      String help;
      try (InputStream in = p.getInputStream()) {
        help = new String(in.readNBytes(64 * 1024), StandardCharsets.UTF_8);
      }
      if (!p.waitFor(5, TimeUnit.SECONDS)) {
        return false;
      }
      return help.contains(mark);
    } catch (IOException e) {
      LOG.log(Level.FINE, "cannot run " + program + " --help", e);
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    } finally {
      if (p != null) {
        p.destroyForcibly();
      }
    }
  }
}
