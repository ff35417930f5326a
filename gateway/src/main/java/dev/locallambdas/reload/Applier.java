package dev.locallambdas.reload;

import dev.locallambdas.exchange.Problem;
import dev.locallambdas.function.FunctionPool;
import dev.locallambdas.function.Supervisor;
import dev.locallambdas.manifest.FunctionSpec;
import dev.locallambdas.manifest.Manifest;
import dev.locallambdas.routing.RouteTable;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import java.util.logging.Logger;

/**
 * Carries out a {@link Plan} without dropping a request. Added functions get a pool and their
 * routes at once; removed ones lose their routes at once (new requests get 404) and drain; a
 * changed function that has ready instances gets a new pool warmed up beside the old one, which
 * keeps serving (and queueing) until a new instance is ready; only then does the route table point
 * at the new pool and the old one drain. A new pool that cannot start is discarded and the old one
 * keeps serving under its old definition. Blocks while warm-ups run: call it off the event loops.
 */
final class Applier {
  private static final Logger LOG = Logger.getLogger("dev.locallambdas.reload");

  /** Beyond the start-up timeout, which fails a start by itself: only a safety net. */
  private static final long WARMUP_SLACK_SECONDS = 5;

  private final Supervisor supervisor;
  private final Consumer<RouteTable<FunctionPool>> routes;

  Applier(Supervisor supervisor, Consumer<RouteTable<FunctionPool>> routes) {
    this.supervisor = supervisor;
    this.routes = routes;
  }

  /** A changed function's new pool and what its warm-up will say. */
  private record Warming(
      Plan.Change change, FunctionPool old, FunctionPool pool, CompletableFuture<Problem> ready) {}

  /**
   * Applies {@code plan} (from the manifest in effect to {@code next}); puts the functions that
   * could not be changed, with why, into {@code failed}, and returns the manifest now in effect:
   * {@code next}, except that a failed function keeps its old definition.
   */
  Manifest apply(Plan plan, Manifest next, Map<String, String> failed) {
    Map<String, FunctionPool> target = new HashMap<>();
    for (FunctionSpec spec : plan.unchanged()) {
      target.put(spec.id(), supervisor.pool(spec.id()));
    }
    for (FunctionSpec spec : plan.added()) {
      FunctionPool pool = supervisor.create(spec);
      supervisor.install(pool);
      target.put(spec.id(), pool);
    }
    List<Warming> warming = new ArrayList<>();
    for (Plan.Change change : plan.changed()) {
      FunctionPool old = supervisor.pool(change.id());
      FunctionPool pool = supervisor.create(change.after());
      int ready = old.readyCount();
      if (ready == 0) {
        // Nothing is running: there is nothing to keep serving, so the swap is immediate.
        supervisor.install(pool);
        supervisor.retire(old);
        target.put(change.id(), pool);
      } else {
        warming.add(new Warming(change, old, pool, pool.warmUp(ready)));
        target.put(change.id(), old);
      }
    }
    List<FunctionPool> removed = new ArrayList<>();
    for (FunctionSpec spec : plan.removed()) {
      removed.add(supervisor.pool(spec.id()));
    }
    supervisor.order(next.functions().stream().map(FunctionSpec::id).toList());
    routes.accept(table(next, target));
    for (FunctionPool old : removed) {
      if (old != null) {
        supervisor.retire(old); // in-flight and queued requests finish; new ones get 404
      }
    }
    Map<String, FunctionSpec> effective = new LinkedHashMap<>();
    next.functions().forEach(f -> effective.put(f.id(), f));
    for (Warming w : warming) {
      String why = await(w);
      if (why == null) {
        supervisor.install(w.pool());
        target.put(w.change().id(), w.pool());
        routes.accept(table(next, target));
        supervisor.retire(w.old());
        LOG.info(w.change().id() + ": new definition in service; the old instances drain");
      } else {
        supervisor.discard(w.pool());
        w.old().reloadFailed("reload failed: " + why);
        failed.put(w.change().id(), why);
        effective.put(w.change().id(), w.change().before());
        LOG.warning(w.change().id() + ": reload failed, the old instances keep serving: " + why);
      }
    }
    Manifest now =
        new Manifest(next.source(), next.originalFormat(), List.copyOf(effective.values()));
    routes.accept(table(now, target));
    return now;
  }

  private static String await(Warming w) {
    long limit = w.change().after().startupTimeout().toSeconds() + WARMUP_SLACK_SECONDS;
    try {
      Problem p = w.ready().get(limit, TimeUnit.SECONDS);
      return p == null ? null : p.detail() != null ? p.detail() : p.title();
    } catch (TimeoutException e) {
      return "no new instance was ready within " + limit + " s";
    } catch (ExecutionException e) {
      return String.valueOf(e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "interrupted";
    }
  }

  /** The routes of {@code manifest}, each to the pool {@code pools} names for its function. */
  static RouteTable<FunctionPool> table(Manifest manifest, Map<String, FunctionPool> pools) {
    RouteTable.Builder<FunctionPool> b = RouteTable.builder();
    for (FunctionSpec spec : manifest.functions()) {
      FunctionPool pool = pools.get(spec.id());
      if (pool != null) {
        for (String route : spec.routes()) {
          b.add(route, pool);
        }
      }
    }
    return b.build();
  }
}
