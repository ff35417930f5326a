package dev.locallambdas.reload;

import dev.locallambdas.function.FunctionPool;
import dev.locallambdas.function.Supervisor;
import dev.locallambdas.manifest.FunctionSpec;
import dev.locallambdas.manifest.Manifest;
import dev.locallambdas.manifest.ManifestCheck;
import dev.locallambdas.manifest.ManifestProblem;
import dev.locallambdas.manifest.ManifestReader;
import dev.locallambdas.routing.RouteTable;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import java.util.logging.Logger;

/**
 * Reloads the manifest in effect from its file (docs/reload.md): the trigger may be a change of the
 * file, SIGHUP or the admin API, and all three end here. The file is checked as {@code serve}
 * checks it; with errors, each is logged as FILE:LINE and nothing changes. Otherwise the {@link
 * Plan} from the manifest in effect to the new one is applied ({@link Applier}). One reload runs at
 * a time; each blocks until its new instances are ready, so it runs off the event loops.
 */
public final class Reloader {
  private static final Logger LOG = Logger.getLogger("dev.locallambdas.reload");

  private final Path file;
  private final Applier applier;
  private final List<Consumer<Manifest>> applied =
      new java.util.concurrent.CopyOnWriteArrayList<>();
  private final ReentrantLock lock = new ReentrantLock();
  private volatile Manifest current;

  /** {@code routes} puts a route table in effect (the front door's). */
  public Reloader(
      Manifest current, Supervisor supervisor, Consumer<RouteTable<FunctionPool>> routes) {
    this.current = Objects.requireNonNull(current, "current");
    this.file = Objects.requireNonNull(current.source(), "the manifest has no file to reload");
    this.applier = new Applier(supervisor, routes);
  }

  /** Tells {@code listener} of every manifest a reload puts in effect. */
  public void onApplied(Consumer<Manifest> listener) {
    applied.add(listener);
  }

  /** The manifest in effect. */
  public Manifest current() {
    return current;
  }

  /** The manifest file. */
  public Path file() {
    return file;
  }

  /** Reads the file again and applies it; blocks until done (waits for a reload in progress). */
  public ReloadResult reload() {
    lock.lock();
    try {
      ManifestCheck check = ManifestReader.check(file);
      if (!check.valid()) {
        ReloadResult r = ReloadResult.invalid(file.toString(), check.problems());
        for (ManifestProblem p : check.errors()) {
          LOG.warning(p.toString());
        }
        LOG.warning(r.describe());
        return r;
      }
      for (ManifestProblem p : check.warnings()) {
        LOG.info(p.toString());
      }
      Manifest next = check.manifest();
      Plan plan = Plan.between(current, next);
      Map<String, String> failed = new LinkedHashMap<>();
      if (!plan.empty() || !order(current).equals(order(next))) {
        current = applier.apply(plan, next, failed);
        for (Consumer<Manifest> listener : applied) {
          listener.accept(current);
        }
      }
      ReloadResult r =
          new ReloadResult(
              file.toString(),
              Plan.ids(plan.added()),
              plan.changed().stream().map(Plan.Change::id).toList(),
              Plan.ids(plan.removed()),
              Plan.ids(plan.unchanged()),
              failed,
              check.problems());
      LOG.info(r.describe());
      return r;
    } finally {
      lock.unlock();
    }
  }

  /** Reloads on a virtual thread of its own (SIGHUP, a change of the file); logs the outcome. */
  public void reloadInBackground(String why) {
    Thread.ofVirtual()
        .name("reload")
        .start(
            () -> {
              LOG.info("reloading " + file + " (" + why + ")");
              try {
                reload();
              } catch (RuntimeException e) {
                LOG.log(java.util.logging.Level.WARNING, "reload of " + file + " failed", e);
              }
            });
  }

  private static List<String> order(Manifest m) {
    return m.functions().stream().map(FunctionSpec::id).toList();
  }

  /** The routes of {@code manifest}, to the pools in service (the gateway's first table). */
  public static RouteTable<FunctionPool> routes(Manifest manifest, Supervisor supervisor) {
    Map<String, FunctionPool> pools = new HashMap<>();
    for (FunctionSpec spec : manifest.functions()) {
      pools.put(spec.id(), supervisor.pool(spec.id()));
    }
    return Applier.table(manifest, pools);
  }
}
