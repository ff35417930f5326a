package dev.locallambdas.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * The file {@code --ready-file} names: absent until the front door accepts, then the gateway's URL
 * in one write (a temporary file renamed over it), so a harness that sees the file can read a
 * complete line; absent again after stop. A stale one from an earlier run is removed at start.
 */
final class ReadyFile {
  private static final ReadyFile NONE = new ReadyFile(null);

  private final Path path;

  private ReadyFile(Path path) {
    this.path = path;
  }

  /** The ready file at {@code path} (none when null), with any earlier one removed. */
  static ReadyFile of(Path path) throws IOException {
    if (path == null) {
      return NONE;
    }
    Files.deleteIfExists(path);
    return new ReadyFile(path.toAbsolutePath());
  }

  void write(String url) {
    if (path == null) {
      return;
    }
    try {
      Path dir = path.getParent();
      Path temp = Files.createTempFile(dir, "." + path.getFileName(), ".tmp");
      try {
        Files.writeString(temp, url + "\n");
        Files.move(temp, path, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } finally {
        Files.deleteIfExists(temp);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("--ready-file " + path + " cannot be written: " + e, e);
    }
  }

  void remove() {
    if (path == null) {
      return;
    }
    try {
      Files.deleteIfExists(path);
    } catch (IOException e) {
      // Stopping anyway; a stale file is removed by the next start.
    }
  }
}
