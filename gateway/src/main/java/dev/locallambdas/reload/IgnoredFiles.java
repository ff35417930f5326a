package dev.locallambdas.reload;

import java.nio.file.Path;
import java.util.Locale;
import java.util.Set;

/**
 * The changes watch mode never acts on (docs/reload.md): editors' temporary and backup files,
 * version control, bytecode and caches, and what functions typically write while they run (logs,
 * databases). A function's own output under its directory would otherwise restart it after every
 * request. The same rules decide which directories are not watched at all.
 */
final class IgnoredFiles {
  private IgnoredFiles() {}

  /** Directories skipped whole: never registered, nothing under them counts. */
  private static final Set<String> DIRECTORIES =
      Set.of(
          ".git",
          ".hg",
          ".svn",
          "__pycache__",
          ".pytest_cache",
          ".mypy_cache",
          ".ruff_cache",
          ".tox",
          ".venv",
          "venv",
          "node_modules",
          ".cache",
          ".idea",
          ".vscode",
          ".gradle",
          "logs");

  private static final String[] SUFFIXES = {
    // vim swap files, backups (also emacs and many others), generic temporaries
    ".swp",
    ".swx",
    ".swo",
    "~",
    ".tmp",
    ".temp",
    ".bak",
    // JetBrains safe write
    "___jb_tmp___",
    "___jb_old___",
    // bytecode
    ".pyc",
    ".pyo",
    ".class",
    // what functions write while running
    ".log",
    ".pid",
    ".sock",
    "-journal",
    "-wal",
    "-shm",
    ".db",
    ".sqlite",
    ".sqlite3",
  };

  /** True when a change of {@code path} (any form; its name segments are what count) is ignored. */
  static boolean ignored(Path path) {
    int n = path.getNameCount();
    for (int i = 0; i < n - 1; i++) {
      if (directory(path.getName(i).toString())) {
        return true;
      }
    }
    return n > 0 && file(path.getFileName().toString());
  }

  /** True for a directory that is not watched (and whose content never counts). */
  static boolean directory(String name) {
    return DIRECTORIES.contains(name);
  }

  static boolean file(String name) {
    if (directory(name)) {
      return true; // the directory itself appearing or going
    }
    String lower = name.toLowerCase(Locale.ROOT);
    if (lower.equals("4913") // vim's probe of whether it may write in the directory
        || lower.equals(".ds_store")
        || lower.startsWith(".#") // emacs lock files
        || (lower.startsWith("#") && lower.endsWith("#")) // emacs auto-save
        || lower.startsWith(".goutputstream-")) { // GNOME's atomic save
      return true;
    }
    for (String s : SUFFIXES) {
      if (lower.endsWith(s)) {
        return true;
      }
    }
    return false;
  }
}
