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
 * Makes children die with the gateway, even when it is killed with SIGKILL and even when the
 * children know nothing of it: util-linux {@code setpriv --pdeathsig KILL} sets the Linux
 * parent-death signal and then execs the real program (same pid). The kernel sends that signal when
 * the <em>thread</em> that forked the child exits, which is why all spawning happens on one
 * long-lived thread (see {@link Spawner}).
 */
final class ParentDeathSignal {
  private static final Logger LOG = Logger.getLogger("dev.locallambdas.process");
  private static final Path DEFAULT_SETPRIV = Path.of("/usr/bin/setpriv");

  private ParentDeathSignal() {}

  /** The setpriv that supports --pdeathsig, looked for once per JVM. */
  static Optional<Path> setpriv() {
    return Holder.SETPRIV;
  }

  /** The command prefix that arms the parent-death signal, run through {@code setpriv}. */
  static List<String> prefix(Path setpriv) {
    return List.of(setpriv.toString(), "--pdeathsig", "KILL", "--");
  }

  private static final class Holder {
    static final Optional<Path> SETPRIV = find();
  }

  private static Optional<Path> find() {
    List<Path> candidates = new ArrayList<>();
    candidates.add(DEFAULT_SETPRIV);
    String path = System.getenv("PATH");
    if (path != null) {
      for (String dir : path.split(File.pathSeparator, -1)) {
        if (!dir.isEmpty()) {
          try {
            candidates.add(Path.of(dir, "setpriv"));
          } catch (InvalidPathException e) {
            // an unusable PATH entry cannot hold setpriv
          }
        }
      }
    }
    for (Path candidate : candidates) {
      if (Files.isRegularFile(candidate)
          && Files.isExecutable(candidate)
          && supportsPdeathsig(candidate)) {
        return Optional.of(candidate);
      }
    }
    return Optional.empty();
  }

  private static boolean supportsPdeathsig(Path setpriv) {
    Process p = null;
    try {
      p =
          new ProcessBuilder(setpriv.toString(), "--help")
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
      return help.contains("pdeathsig");
    } catch (IOException e) {
      LOG.log(Level.FINE, "cannot run " + setpriv + " --help", e);
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
