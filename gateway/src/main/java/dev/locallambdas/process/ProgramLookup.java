package dev.locallambdas.process;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;

/**
 * Finds the program a child runs before it is spawned, so that a typo fails with a message saying
 * what was looked for where, rather than an errno from deep inside process creation (or, with a
 * wrapper like setpriv in front, a child that starts and immediately exits 127).
 */
final class ProgramLookup {
  private ProgramLookup() {}

  /**
   * Resolves {@code program}: a name without '/' against the directories of {@code searchPath} (the
   * PATH the child will see; an empty entry means the working directory), anything else against
   * {@code workingDirectory}.
   */
  static Path resolve(String program, Path workingDirectory, String searchPath, String label)
      throws IOException {
    if (program.indexOf('/') >= 0) {
      return checkPath(program, workingDirectory, label);
    }
    if (searchPath == null || searchPath.isEmpty()) {
      throw new IOException(
          "cannot start '"
              + label
              + "': program '"
              + program
              + "' has no '/' and the child's environment has no PATH to look it up on;"
              + " give its full path or set PATH");
    }
    Path notExecutable = null;
    for (String entry : searchPath.split(":", -1)) {
      Path candidate;
      try {
        candidate =
            (entry.isEmpty() ? workingDirectory : workingDirectory.resolve(entry)).resolve(program);
      } catch (InvalidPathException e) {
        continue;
      }
      if (Files.isRegularFile(candidate)) {
        if (Files.isExecutable(candidate)) {
          return candidate;
        }
        if (notExecutable == null) {
          notExecutable = candidate;
        }
      }
    }
    if (notExecutable != null) {
      throw new IOException(
          "cannot start '"
              + label
              + "': program '"
              + program
              + "' was found on PATH at "
              + notExecutable
              + " but is not executable; make it executable (chmod +x "
              + notExecutable
              + ")");
    }
    throw new IOException(
        "cannot start '"
            + label
            + "': program '"
            + program
            + "' was not found on PATH ("
            + searchPath
            + "); install it, add its directory to PATH, or give its full path");
  }

  private static Path checkPath(String program, Path workingDirectory, String label)
      throws IOException {
    Path resolved;
    try {
      resolved = workingDirectory.resolve(program);
    } catch (InvalidPathException e) {
      throw new IOException(
          "cannot start '"
              + label
              + "': program path '"
              + program
              + "' is invalid: "
              + e.getMessage(),
          e);
    }
    String where =
        Path.of(program).isAbsolute()
            ? ""
            : " (relative paths are resolved against the working directory "
                + workingDirectory
                + ")";
    if (!Files.exists(resolved)) {
      throw new IOException(
          "cannot start '"
              + label
              + "': program "
              + resolved
              + " does not exist"
              + where
              + "; fix the path or install the program");
    }
    if (!Files.isRegularFile(resolved)) {
      throw new IOException(
          "cannot start '" + label + "': program " + resolved + " is not a regular file" + where);
    }
    if (!Files.isExecutable(resolved)) {
      throw new IOException(
          "cannot start '"
              + label
              + "': program "
              + resolved
              + " is not executable; make it executable (chmod +x "
              + resolved
              + ")");
    }
    return resolved;
  }
}
