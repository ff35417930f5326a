package dev.locallambdas.reload;

import dev.locallambdas.manifest.FunctionSpec;
import java.io.File;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The files of one function that watch mode follows (docs/reload.md). With {@code <watch>} globs:
 * the files they match, relative to the working directory ({@code src/**}, {@code target/app.jar};
 * {@code a/**}{@code /b} also matches {@code a/b}). Without: everything under the working directory
 * and the program itself (the executable when it is a path, and every argument, or class path
 * entry, that names an existing file), wherever it lies. Ignored files ({@link IgnoredFiles}) never
 * count, nor does the manifest itself (a change there is a reload, not a restart).
 */
final class WatchSet {
  private final String id;
  private final Path workingDir;
  private final List<PathMatcher> globs;
  private final Set<Path> files;
  private final Set<Path> roots;
  private final Path manifest;

  private WatchSet(
      String id,
      Path workingDir,
      List<PathMatcher> globs,
      Set<Path> files,
      Set<Path> roots,
      Path manifest) {
    this.id = id;
    this.workingDir = workingDir;
    this.globs = List.copyOf(globs);
    this.files = Set.copyOf(files);
    this.roots = Set.copyOf(roots);
    this.manifest = manifest;
  }

  static WatchSet of(FunctionSpec spec, Path manifest) {
    Path dir =
        (spec.workingDir() != null ? spec.workingDir() : Path.of("")).toAbsolutePath().normalize();
    List<PathMatcher> globs = new ArrayList<>();
    Set<Path> files = new LinkedHashSet<>();
    Set<Path> roots = new LinkedHashSet<>();
    if (spec.watch().isEmpty()) {
      roots.add(dir);
      addProgram(spec.executable(), dir, files, roots);
      for (String arg : spec.args()) {
        for (String part : arg.split(File.pathSeparator, -1)) {
          addProgram(part, dir, files, roots);
        }
      }
    } else {
      for (String glob : spec.watch()) {
        String absolute =
            Path.of(glob).isAbsolute() ? glob : dir.toString().replace("\\", "/") + "/" + glob;
        globs.add(FileSystems.getDefault().getPathMatcher("glob:" + absolute));
        if (absolute.contains("/**/")) {
          globs.add(
              FileSystems.getDefault().getPathMatcher("glob:" + absolute.replace("/**/", "/")));
        }
        roots.add(base(absolute));
      }
    }
    return new WatchSet(spec.id(), dir, globs, files, roots, manifest);
  }

  /** A file the function runs (a script, a jar), added when it exists. */
  private static void addProgram(String value, Path dir, Set<Path> files, Set<Path> roots) {
    if (value == null || value.isEmpty() || value.startsWith("-") || value.indexOf('\0') >= 0) {
      return;
    }
    Path p;
    try {
      p = dir.resolve(value).toAbsolutePath().normalize();
    } catch (java.nio.file.InvalidPathException e) {
      return;
    }
    if (Files.isRegularFile(p)) {
      files.add(p);
      if (!p.startsWith(dir)) {
        roots.add(p.getParent());
      }
    }
  }

  /** The directory under which a glob's matches lie: its part before the first wildcard. */
  private static Path base(String absoluteGlob) {
    int wild = absoluteGlob.length();
    for (char c : new char[] {'*', '?', '[', '{'}) {
      int i = absoluteGlob.indexOf(c);
      if (i >= 0) {
        wild = Math.min(wild, i);
      }
    }
    String literal = absoluteGlob.substring(0, wild);
    int slash = literal.lastIndexOf('/');
    String dir = slash <= 0 ? "/" : literal.substring(0, slash);
    Path p = Path.of(dir).normalize();
    while (p.getParent() != null && !Files.isDirectory(p)) {
      p = p.getParent();
    }
    return p;
  }

  String id() {
    return id;
  }

  /** Directories to watch, with their subdirectories. */
  Set<Path> roots() {
    return roots;
  }

  /** True when a change of {@code path} (absolute) concerns this function. */
  boolean matches(Path path) {
    Path p = path.toAbsolutePath().normalize();
    if (p.equals(manifest)) {
      return false;
    }
    if (files.contains(p)) {
      return true;
    }
    // Only the segments below the working directory count: a function may well live under a
    // directory named like an ignored one (~/.cache/..., /srv/logs/...).
    Path relative = p.startsWith(workingDir) ? workingDir.relativize(p) : p.getFileName();
    if (relative == null || IgnoredFiles.ignored(relative)) {
      return false;
    }
    if (globs.isEmpty()) {
      return p.startsWith(workingDir);
    }
    for (PathMatcher m : globs) {
      if (m.matches(p)) {
        return true;
      }
    }
    return false;
  }
}
