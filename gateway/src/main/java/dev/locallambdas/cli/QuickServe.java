package dev.locallambdas.cli;

import java.nio.file.Path;

/**
 * The common command lines of {@code serve}, read without picocli: building picocli's model of the
 * commands (reflection over the annotations, annotation proxies, lambdas) is most of the JVM's
 * start before the first answer (about half of it on a loaded machine; ADR 0013). Only what is
 * certainly valid is read here: one optional manifest path, {@code --bind}, {@code --drain-grace},
 * {@code --ready-file}, one of {@code -q} or {@code -v}. Anything else — help, version, a typo, a
 * missing value — goes to picocli, which owns every message.
 */
final class QuickServe {
  private QuickServe() {}

  /** The serve command for {@code args} (the first being "serve"), or null for picocli to read. */
  static Main.Serve parse(String[] args) {
    if (args.length == 0 || !args[0].equals("serve")) {
      return null;
    }
    Main.Serve serve = new Main.Serve();
    serve.drainGrace = "10s"; // picocli's default value of the option
    for (int i = 1; i < args.length; i++) {
      String a = args[i];
      String value = null;
      String name = a;
      int eq = a.indexOf('=');
      if (a.startsWith("--") && eq > 0) {
        name = a.substring(0, eq);
        value = a.substring(eq + 1);
      }
      switch (name) {
        case "--bind", "--drain-grace", "--ready-file" -> {
          if (value == null) {
            if (i + 1 >= args.length || args[i + 1].startsWith("-")) {
              return null;
            }
            value = args[++i];
          }
          if (name.equals("--bind")) {
            if (serve.bind != null) {
              return null;
            }
            serve.bind = value;
          } else if (name.equals("--ready-file")) {
            if (serve.readyFile != null || value.isEmpty()) {
              return null;
            }
            try {
              serve.readyFile = Path.of(value);
            } catch (java.nio.file.InvalidPathException e) {
              return null; // picocli explains
            }
          } else {
            serve.drainGrace = value;
          }
        }
        case "-q", "--quiet", "-v", "--verbose" -> {
          boolean quiet = name.equals("-q") || name.equals("--quiet");
          if (value != null || serve.log.quiet || serve.log.debug) {
            return null; // repeated or both: picocli explains
          }
          if (quiet) {
            serve.log.quiet = true;
          } else {
            serve.log.debug = true;
          }
        }
        default -> {
          if (a.startsWith("-") || serve.manifest != null) {
            return null;
          }
          serve.manifest = Path.of(a);
        }
      }
    }
    return serve;
  }
}
