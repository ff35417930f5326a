package dev.locallambdas.server;

import dev.locallambdas.admin.AdminApi;
import dev.locallambdas.cache.CacheSettings;
import dev.locallambdas.cache.ResponseCache;
import dev.locallambdas.clock.Clock;
import dev.locallambdas.clock.Scheduler;
import dev.locallambdas.frontdoor.FrontDoor;
import dev.locallambdas.frontdoor.TrustedProxies;
import dev.locallambdas.function.FunctionPool;
import dev.locallambdas.function.Supervisor;
import dev.locallambdas.loops.EventLoops;
import dev.locallambdas.manifest.Manifest;
import dev.locallambdas.metrics.GatewayMetrics;
import dev.locallambdas.reload.Reloader;
import dev.locallambdas.reload.Watch;
import dev.locallambdas.routing.RouteTable;
import dev.locallambdas.tls.ServerTls;
import dev.locallambdas.transport.Transports;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.function.UnaryOperator;
import java.util.logging.Logger;

/** A running gateway: the supervisor of the manifest's functions behind one front door. */
public final class Gateway implements AutoCloseable {
  private static final Logger LOG = Logger.getLogger("dev.locallambdas.server");

  /** The gateway's version, as --version and the admin API report it. */
  public static final String VERSION = "0.1.0";

  private final EventLoops loops;
  private final Supervisor supervisor;
  private final FrontDoor frontDoor;
  private final ResponseCache cache;
  private final GatewayMetrics metrics;
  private final Reloader reloader;
  private final Watch watch;
  private volatile boolean stopped;

  private Gateway(
      EventLoops loops,
      Supervisor supervisor,
      FrontDoor frontDoor,
      ResponseCache cache,
      GatewayMetrics metrics,
      Reloader reloader,
      Watch watch) {
    this.loops = loops;
    this.supervisor = supervisor;
    this.frontDoor = frontDoor;
    this.cache = cache;
    this.metrics = metrics;
    this.reloader = reloader;
    this.watch = watch;
  }

  public static Gateway start(Manifest manifest, InetSocketAddress bind) throws IOException {
    return builder(manifest).bind(bind).start();
  }

  public static Gateway start(
      Manifest manifest, InetSocketAddress bind, UnaryOperator<Supervisor.Builder> customize)
      throws IOException {
    return builder(manifest).bind(bind).supervisor(customize).start();
  }

  public static Builder builder(Manifest manifest) {
    return new Builder(manifest);
  }

  public InetSocketAddress address() {
    return frontDoor.address();
  }

  public Supervisor supervisor() {
    return supervisor;
  }

  /** The gateway's metrics (served at /.local-lambdas/metrics). */
  public GatewayMetrics metrics() {
    return metrics;
  }

  /**
   * Reloads the manifest from its file (SIGHUP, the admin API, a change of the file): null when the
   * gateway was not started from a file.
   */
  public Reloader reloader() {
    return reloader;
  }

  /** The response cache, or null when caching is off for every function. */
  public ResponseCache cache() {
    return cache;
  }

  /**
   * Stops accepting connections, lets in-flight requests finish within {@code drainGrace}, then
   * stops every child (SIGTERM, SIGKILL after its stop_grace) and removes the socket files.
   */
  public void shutdown(Duration drainGrace) {
    if (stopped) {
      return;
    }
    stopped = true;
    LOG.info("shutting down: draining requests for up to " + drainGrace.toMillis() + " ms");
    long start = System.nanoTime();
    if (watch != null) {
      watch.close();
    }
    frontDoor.stopAccepting();
    supervisor.shutdown(drainGrace);
    long functionsStopped = System.nanoTime();
    frontDoor.close();
    loops.close();
    if (cache != null) {
      cache.invalidateAll();
    }
    long end = System.nanoTime();
    LOG.info(
        "stopped (drain and functions "
            + TimeUnit.NANOSECONDS.toMillis(functionsStopped - start)
            + " ms, front door "
            + TimeUnit.NANOSECONDS.toMillis(end - functionsStopped)
            + " ms)");
  }

  @Override
  public void close() {
    shutdown(Duration.ZERO);
  }

  /** How to start a gateway; {@link #start} validates and starts it. */
  public static final class Builder {
    private final Manifest manifest;
    private InetSocketAddress bind =
        new InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), 3000);
    private UnaryOperator<Supervisor.Builder> supervisor = UnaryOperator.identity();
    private Map<String, String> environment = System.getenv();
    private LongSupplier cacheTicker;
    private int loops = EventLoops.defaultSize();
    private TrustedProxies trustedProxies = TrustedProxies.NONE;
    private boolean watchManifest = true;
    private boolean watchFunctions;
    private ServerTls tls;
    private Duration headerTimeout = FrontDoor.DEFAULT_HEADER_TIMEOUT;

    private Builder(Manifest manifest) {
      this.manifest = Objects.requireNonNull(manifest, "manifest");
    }

    public Builder bind(InetSocketAddress value) {
      this.bind = Objects.requireNonNull(value, "bind");
      return this;
    }

    /** Adjusts the supervisor (tests pass a fake ticker and turn background cleanup off). */
    public Builder supervisor(UnaryOperator<Supervisor.Builder> value) {
      this.supervisor = Objects.requireNonNull(value, "supervisor");
      return this;
    }

    /** How many event loops (threads) carry the front door and every function connection. */
    public Builder loops(int value) {
      if (value < 1 || value > 1024) {
        throw new IllegalArgumentException("loops must be between 1 and 1024, not " + value);
      }
      this.loops = value;
      return this;
    }

    /** Peers whose X-Forwarded-* and Forwarded fields are kept and extended (default: none). */
    public Builder trustProxies(TrustedProxies value) {
      this.trustedProxies = Objects.requireNonNull(value, "trustedProxies");
      return this;
    }

    /**
     * Whether a change of the manifest file reloads it (default: yes, when there is a file); SIGHUP
     * and the admin API reload it either way.
     */
    public Builder watchManifest(boolean value) {
      this.watchManifest = value;
      return this;
    }

    /**
     * Watch mode for every function ({@code serve --watch}): a change of its files replaces its
     * instances. Functions with {@code <watch>} globs are watched either way.
     */
    public Builder watchFunctions(boolean value) {
      this.watchFunctions = value;
      return this;
    }

    /**
     * How long a client may take over a request head once it has started one (HTTP/1.1: 408; an
     * HTTP/2 header block, preface or first SETTINGS: GOAWAY); default 10 s.
     */
    public Builder headerTimeout(Duration value) {
      if (value.isNegative() || value.isZero()) {
        throw new IllegalArgumentException(
            "the header timeout is " + value + ": it must be positive");
      }
      this.headerTimeout = value;
      return this;
    }

    /** Serves HTTPS (HTTP/2 and HTTP/1.1 by ALPN) with these files (default: cleartext). */
    public Builder tls(ServerTls value) {
      this.tls = value;
      return this;
    }

    /** Where ENABLE_CACHE and CACHE_MAX_SIZE are read from (default: the process environment). */
    public Builder environment(Map<String, String> value) {
      this.environment = Map.copyOf(value);
      return this;
    }

    /** The clock of the response cache, in nanoseconds (tests pass a fake one). */
    public Builder cacheTicker(LongSupplier value) {
      this.cacheTicker = Objects.requireNonNull(value, "cacheTicker");
      return this;
    }

    /**
     * Starts the functions' supervisor (eager functions start now), then the front door. A bad
     * cache setting fails before anything starts; if the front door cannot bind, everything already
     * started is stopped again.
     */
    public Gateway start() throws IOException {
      CacheSettings cacheSettings = CacheSettings.from(environment, manifest.functions());
      ResponseCache cache = null;
      if (cacheSettings.anyEnabled()) {
        ResponseCache.Builder b = ResponseCache.builder(cacheSettings);
        if (cacheTicker != null) {
          b.ticker(cacheTicker);
        }
        cache = b.build();
        LOG.info(cacheSettings.describe());
      }
      GatewayMetrics metrics = new GatewayMetrics();
      EventLoops loops = EventLoops.start(this.loops);
      Supervisor sup;
      try {
        sup =
            supervisor
                .apply(
                    Supervisor.builder(manifest)
                        .transports(Transports::forProtocol)
                        .loops(loops)
                        .observers(spec -> metrics.function(spec.id())))
                .build();
      } catch (IOException | RuntimeException e) {
        loops.close();
        throw e;
      }
      Watch watch = null;
      try {
        RouteTable<FunctionPool> routes = Reloader.routes(manifest, sup);
        metrics.watch(sup, cache);
        metrics.watchJvm();
        AdminApi admin =
            new AdminApi(sup, cache, metrics, new AdminApi.Info(VERSION, manifest, text(manifest)));
        FrontDoor door =
            FrontDoor.start(
                bind, routes, cache, admin, headerTimeout, loops, metrics, trustedProxies, tls);
        Reloader reloader = null;
        if (manifest.source() != null) {
          reloader = new Reloader(manifest, sup, door::routes);
          reloader.onApplied(m -> admin.manifestInEffect(m, text(m)));
          reloader.onApplied(m -> warnAboutCache(m, cacheSettings, environment));
          admin.reloads(reloader::reload);
          boolean functionGlobs = manifest.functions().stream().anyMatch(f -> !f.watch().isEmpty());
          if (watchManifest || watchFunctions || functionGlobs) {
            watch =
                Watch.start(
                    reloader,
                    sup,
                    watchFunctions,
                    watchManifest,
                    Clock.system(),
                    Scheduler.on(loops.next()));
          }
        }
        return new Gateway(loops, sup, door, cache, metrics, reloader, watch);
      } catch (IOException | RuntimeException e) {
        if (watch != null) {
          watch.close();
        }
        sup.close();
        loops.close();
        throw e;
      }
    }

    /**
     * The response cache is set up once, from the manifest the gateway started with: a reload that
     * changes a function's {@code <cache>} (or adds one with a cache) says it needs a restart.
     */
    private static void warnAboutCache(
        Manifest m, CacheSettings started, Map<String, String> environment) {
      CacheSettings now = CacheSettings.from(environment, m.functions());
      if (!now.functions().equals(started.functions())) {
        LOG.warning(
            "the reloaded manifest changes the response cache's settings; they take effect when"
                + " the gateway restarts (docs/reload.md)");
      }
    }

    /** The manifest file as it was read (what is in effect), or null when there is no file. */
    private static String text(Manifest manifest) {
      try {
        return manifest.source() != null && java.nio.file.Files.isRegularFile(manifest.source())
            ? java.nio.file.Files.readString(manifest.source())
            : null;
      } catch (IOException | RuntimeException e) {
        return null;
      }
    }
  }
}
