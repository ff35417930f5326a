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

  /** Why a function cannot start: its working directory, or its program. */
  private record Finding(boolean workingDir, String message) {}

  /**
   * Problems for every function of a read manifest whose program is missing, without lines; {@code
   * pathVariable} may be null.
   */
  static List<ManifestProblem> check(Manifest m, String pathVariable) {
    List<ManifestProblem> problems = new ArrayList<>();
    Path cwd = Path.of("").toAbsolutePath();
    for (FunctionSpec f : m.functions()) {
      if (f.protocol() == Protocol.IN_PROCESS) {
        continue; // its <executable> is its code, checked when it is loaded
      }
      Path workingDir = f.workingDir() != null ? f.workingDir() : cwd;
      Finding finding = find(f.executable(), workingDir, pathVariable);
      if (finding != null) {
        problems.add(
            new ManifestProblem(
                m.source(),
                0,
                (finding.workingDir() ? "<working_dir> of '" : "<executable> of '") + f.id() + "'",
                finding.message()));
      }
    }
    return problems;
  }

  /** Records a problem, at the line that declared it, when the program cannot be started. */
  static void check(
      FunctionReader.Program program, String label, String pathVariable, Problems problems) {
    Finding finding = find(program.executable(), program.workingDir(), pathVariable);
    if (finding == null) {
      return;
    }
    if (finding.workingDir()) {
      problems.add(program.workingDirLine(), "<working_dir> of " + label, finding.message());
    } else {
      problems.add(program.executableLine(), "<executable> of " + label, finding.message());
    }
  }

  private static Finding find(String executable, Path workingDir, String pathVariable) {
    if (!Files.isDirectory(workingDir)) {
      // The child could not be started in it, whatever its program.
      return new Finding(
          true, "directory " + workingDir + " does not exist: create it or fix <working_dir>");
    }
    String problem =
        executable.indexOf('/') >= 0
            ? checkPath(executable, workingDir)
            : checkName(executable, pathVariable);
    if (problem == null) {
      return null;
    }
    if (executable.length() <= 80 && executable.strip().indexOf(' ') > 0) {
      // "python3 -u": the gateway runs no shell, so the whole text is taken as one file name.
      String[] words = executable.strip().split(" +", 2);
      problem +=
          "; arguments go in <arg> elements, e.g. <executable>"
              + words[0]
              + "</executable><arg>"
              + words[1]
              + "</arg>";
    }
    return new Finding(false, problem);
  }

  private static String checkPath(String executable, Path workingDir) {
    Path p;
    try {
      p = workingDir.resolve(executable).normalize();
    } catch (InvalidPathException e) {
      return Quote.of(executable) + " is not a valid path: " + e.getReason();
    }
    String relative =
        Path.of(executable).isAbsolute()
            ? ""
            : " (a relative path resolves against <working_dir>, here " + workingDir + ")";
    if (!Files.exists(p)) {
      return Quote.of(executable)
          + " not found: "
          + p
          + " does not exist"
          + relative
          + "; fix the path in <executable>";
    }
    if (!Files.isRegularFile(p)) {
      return Quote.of(executable) + " is not a file: " + p + " is a directory or device";
    }
    if (!Files.isExecutable(p)) {
      return Quote.of(executable) + " is not executable: run chmod +x " + p;
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
    return Quote.of(name)
        + " was not found on PATH ("
        + String.join(File.pathSeparator, dirs)
        + "): install it, or give its path, e.g. <executable>./bin/"
        + (name.length() <= 40 && name.indexOf(' ') < 0 ? name : "tool")
        + "</executable>";
  }
}
