package dev.locallambdas.reload;

import dev.locallambdas.clock.Clock;
import dev.locallambdas.clock.Scheduler;
import dev.locallambdas.function.Supervisor;
import dev.locallambdas.manifest.Manifest;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;

/**
 * The development loop's watcher (docs/reload.md): a change of the manifest file reloads it; a
 * change of a watched function's files (all functions under {@code serve --watch}, else those with
 * {@code <watch>} globs) replaces that function's instances, new ones ready before the old ones
 * drain. Both are debounced ({@link #QUIET}): a save is several events, and a build many.
 */
public final class Watch implements AutoCloseable {
  private static final Logger LOG = Logger.getLogger("dev.locallambdas.reload");

  /** Quiet time after the last change of a burst before acting. */
  static final long QUIET = TimeUnit.MILLISECONDS.toNanos(100);

  /** At the latest this long after a burst's first change (a file written without pause). */
  static final long MAX_DELAY = TimeUnit.SECONDS.toNanos(1);

  private final Supervisor supervisor;
  private final boolean allFunctions;
  private final boolean manifestToo;
  private final Path manifest;
  private final FileWatcher files;
  private final Debouncer<Path> manifestChanges;
  private final Debouncer<String> functionChanges;
  private volatile List<WatchSet> sets = List.of();

  private Watch(
      Reloader reloader,
      Supervisor supervisor,
      boolean allFunctions,
      boolean manifestToo,
      Clock clock,
      Scheduler scheduler)
      throws IOException {
    this.supervisor = supervisor;
    this.allFunctions = allFunctions;
    this.manifestToo = manifestToo;
    this.manifest = reloader.file().toAbsolutePath().normalize();
    this.manifestChanges =
        new Debouncer<>(
            clock, scheduler, QUIET, MAX_DELAY, p -> reloader.reloadInBackground(p + " changed"));
    this.functionChanges = new Debouncer<>(clock, scheduler, QUIET, MAX_DELAY, this::replace);
    this.files = new FileWatcher(this::changed);
  }

  /**
   * Starts watching the manifest file (when {@code manifestToo}) and the files of every function
   * ({@code allFunctions}) or of those with {@code <watch>} globs; follows the manifest as reloads
   * change it.
   */
  public static Watch start(
      Reloader reloader,
      Supervisor supervisor,
      boolean allFunctions,
      boolean manifestToo,
      Clock clock,
      Scheduler scheduler)
      throws IOException {
    Watch w = new Watch(reloader, supervisor, allFunctions, manifestToo, clock, scheduler);
    Path dir = w.manifest.getParent();
    if (dir != null && manifestToo) {
      w.files.watch(dir);
    }
    w.follow(reloader.current());
    reloader.onApplied(w::follow);
    return w;
  }

  /** Watches the files of {@code m}'s functions (a reload may add some). */
  void follow(Manifest m) {
    List<WatchSet> next =
        m.functions().stream()
            .filter(f -> allFunctions || !f.watch().isEmpty())
            .map(f -> WatchSet.of(f, manifest))
            .toList();
    for (WatchSet s : next) {
      s.roots().forEach(files::watchTree);
    }
    sets = next;
    if (!next.isEmpty()) {
      LOG.info(
          "watching the files of "
              + String.join(", ", next.stream().map(WatchSet::id).toList())
              + " (a change replaces their instances)");
    }
  }

  private void changed(Path path) {
    Path p = path.toAbsolutePath().normalize();
    if (p.equals(manifest)) {
      if (manifestToo) {
        manifestChanges.changed(p);
      }
      return;
    }
    for (WatchSet s : sets) {
      if (s.matches(p)) {
        LOG.fine(() -> s.id() + ": " + p + " changed");
        functionChanges.changed(s.id());
      }
    }
  }

  private void replace(String id) {
    Thread.ofVirtual()
        .name("watch-" + id)
        .start(
            () -> {
              int n = supervisor.replaceInstances(id);
              LOG.info(
                  id
                      + ": its files changed; "
                      + (n == 0
                          ? "no instance is running (the next start runs the new code)"
                          : "replacing "
                              + n
                              + " instance(s): new ones ready before old ones drain"));
            });
  }

  @Override
  public void close() {
    manifestChanges.close();
    functionChanges.close();
    files.close();
  }
}
