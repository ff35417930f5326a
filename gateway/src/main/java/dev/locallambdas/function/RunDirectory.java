package dev.locallambdas.function;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.stream.Stream;

/**
 * The gateway run's private directory for socket files: fresh, unpredictable, mode 0700, removed at
 * shutdown. Its name is short because a Unix socket path must fit in 108 bytes.
 *
 * <p>A gateway killed with SIGKILL cannot remove its directory, so each new one removes the
 * directories that dead gateways of the same user left in the same place. A directory is known to
 * be alive by its file {@value #LOCK}, on which the living gateway holds an exclusive lock (fcntl,
 * released by the kernel when the process ends, however it ends, and visible across PID
 * namespaces). A directory whose lock can be taken is a dead gateway's; one without a lock file
 * (made by an older version, or still being made) is left alone.
 */
final class RunDirectory {
  private static final Logger LOG = Logger.getLogger("dev.locallambdas.function");
  static final String PREFIX = "ll-";
  static final String LOCK = "lock";

  /**
   * This JVM's own directories and their locks. Their lock files are never opened a second time:
   * closing any descriptor of a file drops every fcntl lock the process holds on it.
   */
  private static final Map<Path, FileChannel> OWN = new ConcurrentHashMap<>();

  private RunDirectory() {}

  /** Removes what dead gateways left, then makes and locks a new directory. */
  static Path create() throws IOException {
    return create(baseDirectory());
  }

  static Path create(Path base) throws IOException {
    removeStale(base);
    SecureRandom random = new SecureRandom();
    for (int attempt = 0; attempt < 16; attempt++) {
      byte[] b = new byte[4];
      random.nextBytes(b);
      String name = HexFormat.of().formatHex(b);
      // Made under a name the sweep does not look at, locked, then renamed into place, so that
      // no other gateway ever sees this directory without its lock held.
      Path making = base.resolve("." + PREFIX + name);
      Path dir = base.resolve(PREFIX + name);
      if (Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
        continue;
      }
      try {
        Files.createDirectory(
            making,
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
      } catch (FileAlreadyExistsException e) {
        continue; // another run picked the same name: draw again
      }
      FileChannel lock = null;
      try {
        lock =
            FileChannel.open(
                making.resolve(LOCK),
                StandardOpenOption.CREATE_NEW,
                StandardOpenOption.WRITE,
                StandardOpenOption.READ);
        if (lock.tryLock() == null) {
          throw new IOException("cannot lock " + making.resolve(LOCK));
        }
        Files.move(making, dir, StandardCopyOption.ATOMIC_MOVE);
        OWN.put(dir, lock);
        return dir;
      } catch (IOException | RuntimeException e) {
        if (lock != null) {
          lock.close();
        }
        deleteTree(making);
        if (e instanceof FileAlreadyExistsException
            || e instanceof AtomicMoveNotSupportedException) {
          continue;
        }
        throw e;
      }
    }
    throw new IOException(
        "could not create a private run directory in "
            + base
            + "; check that it is writable, or set XDG_RUNTIME_DIR to a directory that is");
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

  /**
   * Removes the run directories in {@code base} that belong to this user and to no living gateway;
   * returns them.
   */
  static List<Path> removeStale(Path base) {
    List<Path> removed = new ArrayList<>();
    UserPrincipal me;
    try {
      me =
          base.getFileSystem()
              .getUserPrincipalLookupService()
              .lookupPrincipalByName(System.getProperty("user.name"));
    } catch (IOException | UnsupportedOperationException e) {
      return removed; // whose directories are whose cannot be told: touch none
    }
    try (DirectoryStream<Path> dirs = Files.newDirectoryStream(base, PREFIX + "*")) {
      for (Path dir : dirs) {
        if (OWN.containsKey(dir) || !isDeadGatewaysDirectory(dir, me)) {
          continue;
        }
        deleteTree(dir);
        removed.add(dir);
      }
    } catch (IOException e) {
      LOG.log(Level.FINE, "cannot look for stale run directories in " + base, e);
    }
    if (!removed.isEmpty()) {
      LOG.info(
          "removed "
              + removed.size()
              + " run director"
              + (removed.size() == 1 ? "y" : "ies")
              + " left by gateways that were killed: "
              + removed);
    }
    return removed;
  }

  private static boolean isDeadGatewaysDirectory(Path dir, UserPrincipal me) {
    try {
      if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)
          || !Files.getOwner(dir, LinkOption.NOFOLLOW_LINKS).equals(me)) {
        return false;
      }
      Path lockFile = dir.resolve(LOCK);
      if (!Files.isRegularFile(lockFile, LinkOption.NOFOLLOW_LINKS)) {
        return false;
      }
      try (FileChannel channel = FileChannel.open(lockFile, StandardOpenOption.WRITE)) {
        FileLock lock = channel.tryLock();
        if (lock == null) {
          return false; // a living gateway holds it
        }
        lock.release();
        return true;
      } catch (OverlappingFileLockException e) {
        return false; // held in this JVM
      }
    } catch (NoSuchFileException e) {
      return false; // removed meanwhile
    } catch (IOException e) {
      LOG.log(Level.FINE, "cannot tell whether run directory " + dir + " is stale", e);
      return false;
    }
  }

  static void delete(Path dir) {
    if (dir == null) {
      return;
    }
    FileChannel lock = OWN.remove(dir);
    deleteTree(dir);
    if (lock != null) {
      try {
        lock.close(); // after the removal: until then, no other gateway may take the directory
      } catch (IOException e) {
        LOG.log(Level.FINE, "closing the lock of " + dir + " failed", e);
      }
    }
  }

  private static void deleteTree(Path dir) {
    // Socket files may vanish while the tree is walked (endpoints close on their event loops, or
    // another gateway sweeps too): walk again until the directory is gone.
    for (int attempt = 0; Files.exists(dir, LinkOption.NOFOLLOW_LINKS) && attempt < 5; attempt++) {
      try (Stream<Path> walk = Files.walk(dir)) {
        walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      } catch (NoSuchFileException e) {
        // removed meanwhile: look again
      } catch (IOException | UncheckedIOException e) {
        if (attempt == 4 && !(e.getCause() instanceof NoSuchFileException)) {
          LOG.warning("could not remove run directory " + dir + ": " + e.getMessage());
        }
      }
    }
  }
}
