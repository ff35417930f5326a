package dev.locallambdas.manifest;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Checks, before anything is started, that each function's program exists, so a typo is reported by
 * {@code validate} or at startup instead of as a 502 on the first request.
 */
final class ExecutableCheck {
  private ExecutableCheck() {}

  /** Problems for every function whose program is missing; {@code pathVariable} may be null. */
  static List<ManifestProblem> check(Manifest m, String pathVariable) {
    List<ManifestProblem> problems = new ArrayList<>();
    Path cwd = Path.of("").toAbsolutePath();
    for (FunctionSpec f : m.functions()) {
      Path workingDir = f.workingDir() != null ? f.workingDir() : cwd;
      if (!Files.isDirectory(workingDir)) {
        // The child could not be started in it, whatever its program.
        problems.add(
            new ManifestProblem(
                m.source(),
                0,
                "<working_dir> of '" + f.id() + "'",
                "directory " + workingDir + " does not exist: create it or fix <working_dir>"));
        continue;
      }
      String problem =
          f.executable().indexOf('/') >= 0
              ? checkPath(f, workingDir)
              : checkName(f.executable(), pathVariable);
      if (problem != null) {
        problems.add(
            new ManifestProblem(m.source(), 0, "<executable> of '" + f.id() + "'", problem));
      }
    }
    return problems;
  }

  private static String checkPath(FunctionSpec f, Path workingDir) {
    Path p;
    try {
      p = workingDir.resolve(f.executable()).normalize();
    } catch (InvalidPathException e) {
      return "'" + f.executable() + "' is not a valid path: " + e.getReason();
    }
    String relative =
        Path.of(f.executable()).isAbsolute()
            ? ""
            : " (a relative path resolves against <working_dir>, here " + workingDir + ")";
    if (!Files.exists(p)) {
      return "'"
          + f.executable()
          + "' not found: "
          + p
          + " does not exist"
          + relative
          + "; fix the path in <executable>";
    }
    if (!Files.isRegularFile(p)) {
      return "'" + f.executable() + "' is not a file: " + p + " is a directory or device";
    }
    if (!Files.isExecutable(p)) {
      return "'" + f.executable() + "' is not executable: run chmod +x " + p;
    }
    return null;
  }

  private static String checkName(String name, String pathVariable) {
    List<String> dirs = new ArrayList<>();
    if (pathVariable != null) {
      for (String d : pathVariable.split(File.pathSeparator, -1)) {
        if (!d.isEmpty()) {
          dirs.add(d);
        }
      }
    }
    for (String d : dirs) {
      try {
        Path candidate = Path.of(d).resolve(name);
        if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
          return null;
        }
      } catch (InvalidPathException e) {
        // A malformed PATH entry cannot hold the program; keep looking in the others.
      }
    }
    return "'"
        + name
        + "' was not found on PATH ("
        + String.join(File.pathSeparator, dirs)
        + "): install it, or give its path, e.g. <executable>./bin/"
        + name
        + "</executable>";
  }
}
