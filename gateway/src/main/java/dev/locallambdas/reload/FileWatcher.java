package dev.locallambdas.reload;

import static java.nio.file.StandardWatchEventKinds.ENTRY_CREATE;
import static java.nio.file.StandardWatchEventKinds.ENTRY_DELETE;
import static java.nio.file.StandardWatchEventKinds.ENTRY_MODIFY;
import static java.nio.file.StandardWatchEventKinds.OVERFLOW;

import java.io.IOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.FileSystems;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.WatchEvent;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.HashSet;
import java.util.Set;
import java.util.function.Consumer;
import java.util.logging.Logger;

/**
 * Reports changed paths under watched directories, through the platform's notifications (inotify on
 * Linux: a change is seen within a millisecond, where polling would add its period to every
 * reload). A directory is watched with its subdirectories, new ones included, except those {@link
 * IgnoredFiles} skips; at most {@link #MAX_DIRECTORIES} in all, so that a working directory holding
 * a whole tree cannot exhaust the inotify watches (then {@code <watch>} globs narrow it). Events
 * are read on one virtual thread; when the kernel's queue overflowed, the directory itself is
 * reported.
 */
final class FileWatcher implements AutoCloseable {
  private static final Logger LOG = Logger.getLogger("dev.locallambdas.reload");
  static final int MAX_DIRECTORIES = 4096;

  private final WatchService service;
  private final Consumer<Path> changed;
  private final Set<Path> registered = new HashSet<>();
  private final Set<Path> recursive = new HashSet<>();
  private boolean warned;

  FileWatcher(Consumer<Path> changed) throws IOException {
    this.service = FileSystems.getDefault().newWatchService();
    this.changed = changed;
    Thread.ofVirtual().name("file-watcher").start(this::run);
  }

  /** Watches {@code dir} alone (the manifest's directory). */
  synchronized void watch(Path dir) {
    register(dir.toAbsolutePath().normalize());
  }

  /** Watches {@code dir} and every subdirectory, now and to come, but the ignored ones. */
  synchronized void watchTree(Path dir) {
    Path root = dir.toAbsolutePath().normalize();
    if (!Files.isDirectory(root) || !recursive.add(root)) {
      return;
    }
    walk(root);
  }

  private void walk(Path root) {
    try {
      Files.walkFileTree(
          root,
          new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path d, BasicFileAttributes attrs) {
              if (!d.equals(root) && IgnoredFiles.directory(String.valueOf(d.getFileName()))) {
                return FileVisitResult.SKIP_SUBTREE;
              }
              return register(d) ? FileVisitResult.CONTINUE : FileVisitResult.TERMINATE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path file, IOException e) {
              return FileVisitResult.CONTINUE;
            }
          });
    } catch (IOException e) {
      LOG.warning("cannot watch " + root + ": " + e.getMessage());
    }
  }

  /** Under the lock; false once the limit is reached. */
  private boolean register(Path dir) {
    if (registered.contains(dir)) {
      return true;
    }
    if (registered.size() >= MAX_DIRECTORIES) {
      if (!warned) {
        warned = true;
        LOG.warning(
            "watching "
                + MAX_DIRECTORIES
                + " directories already; "
                + dir
                + " and the rest are not watched: narrow the function's files with <watch> globs");
      }
      return false;
    }
    try {
      dir.register(service, ENTRY_CREATE, ENTRY_MODIFY, ENTRY_DELETE);
      registered.add(dir);
      return true;
    } catch (IOException | ClosedWatchServiceException e) {
      LOG.fine(() -> "cannot watch " + dir + ": " + e.getMessage());
      return true;
    }
  }

  private synchronized boolean underTree(Path dir) {
    for (Path root : recursive) {
      if (dir.startsWith(root)) {
        return true;
      }
    }
    return false;
  }

  private void run() {
    try {
      while (true) {
        WatchKey key = service.take();
        Path dir = (Path) key.watchable();
        for (WatchEvent<?> event : key.pollEvents()) {
          if (OVERFLOW.equals(event.kind())) {
            changed.accept(dir);
            continue;
          }
          Path path = dir.resolve((Path) event.context());
          if (ENTRY_CREATE.equals(event.kind())
              && Files.isDirectory(path)
              && !IgnoredFiles.directory(String.valueOf(path.getFileName()))
              && underTree(dir)) {
            synchronized (this) {
              walk(path); // a new subdirectory (a checkout, a build): follow it too
            }
          }
          changed.accept(path);
        }
        if (!key.reset()) {
          synchronized (this) {
            registered.remove(dir);
          }
        }
      }
    } catch (ClosedWatchServiceException | InterruptedException e) {
      // closed: the gateway stops
    } catch (RuntimeException e) {
      LOG.log(java.util.logging.Level.WARNING, "the file watcher stopped", e);
    }
  }

  @Override
  public void close() {
    try {
      service.close();
    } catch (IOException e) {
      LOG.fine(() -> "closing the watch service: " + e.getMessage());
    }
  }
}
