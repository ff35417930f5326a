package dev.locallambdas.function;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.stream.Stream;

/**
 * The gateway run's private directory for socket files: fresh, unpredictable, mode 0700, removed at
 * shutdown. Its name is short because a Unix socket path must fit in 108 bytes.
 */
final class RunDirectory {
  private RunDirectory() {}

  static Path create() throws IOException {
    Path base = baseDirectory();
    SecureRandom random = new SecureRandom();
    for (int attempt = 0; attempt < 16; attempt++) {
      byte[] b = new byte[4];
      random.nextBytes(b);
      Path dir = base.resolve("ll-" + HexFormat.of().formatHex(b));
      try {
        return Files.createDirectory(
            dir,
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
      } catch (FileAlreadyExistsException e) {
        // another run picked the same name: draw again
      }
    }
    throw new IOException("could not create a private run directory in " + base);
  }

  private static Path baseDirectory() {
    String xdg = System.getenv("XDG_RUNTIME_DIR");
    if (xdg != null
        && !xdg.isBlank()
        && Files.isDirectory(Path.of(xdg))
        && Files.isWritable(Path.of(xdg))) {
      return Path.of(xdg);
    }
    return Path.of(System.getProperty("java.io.tmpdir"));
  }

  static void delete(Path dir) {
    // Socket files may vanish while the tree is walked (endpoints close on their event loops):
    // walk again until the directory is gone.
    for (int attempt = 0; dir != null && Files.exists(dir) && attempt < 5; attempt++) {
      try (Stream<Path> walk = Files.walk(dir)) {
        walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      } catch (IOException | java.io.UncheckedIOException e) {
        if (attempt == 4) {
          java.util.logging.Logger.getLogger("dev.locallambdas.function")
              .warning("could not remove run directory " + dir + ": " + e.getMessage());
        }
      }
    }
  }
}
