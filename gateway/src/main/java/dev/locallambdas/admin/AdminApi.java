package dev.locallambdas.admin;

import dev.locallambdas.cache.FunctionCache;
import dev.locallambdas.cache.ResponseCache;
import dev.locallambdas.exchange.Problem;
import dev.locallambdas.function.FunctionPool;
import dev.locallambdas.function.Supervisor;
import dev.locallambdas.manifest.Manifest;
import dev.locallambdas.metrics.GatewayMetrics;
import dev.locallambdas.reload.ReloadResult;
import dev.locallambdas.routing.BadTargetException;
import dev.locallambdas.routing.RequestTarget;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The gateway's own endpoints under {@value #PREFIX} (docs/admin.md): the dashboard, Prometheus
 * metrics, the gateway's and the functions' state, and the actions (start, stop, restart, drain,
 * cache purge). Only for clients on the loopback interface that name a loopback host (a web page on
 * another origin cannot reach it through DNS rebinding); state changes only on POST or DELETE, and
 * not from a page of another origin (Origin and Sec-Fetch-Site are checked, so a form on a web site
 * cannot post to it either).
 */
public final class AdminApi {
  public static final String PREFIX = "/.local-lambdas/";

  private static final String GET = "GET, HEAD";
  private static final String ENDPOINTS =
      "GET "
          + PREFIX
          + " (dashboard), GET metrics, GET gateway, GET manifest, GET functions, GET functions/ID,"
          + " POST functions/ID/start|stop|restart|drain, POST reload, POST cache/purge or DELETE"
          + " cache"
          + " [?function=ID[&url=/path?query]]";

  private final Supervisor supervisor;
  private final ResponseCache cache;
  private final GatewayMetrics metrics;
  private volatile Info info;
  private volatile java.util.function.Supplier<ReloadResult> reloads;
  private final FunctionsView view;
  private final Map<String, Asset> assets = new LinkedHashMap<>();

  /** What the gateway says about itself: its version and the manifest in effect (text or null). */
  public record Info(String version, Manifest manifest, String manifestText) {}

  /** A successful admin answer; the body array is the caller's to send, never modified. */
  @SuppressWarnings("ArrayRecordComponent")
  public record Answer(int status, String contentType, byte[] body) {}

  @SuppressWarnings("ArrayRecordComponent")
  private record Asset(String contentType, byte[] body) {}

  /** Without metrics and gateway information (tests of the front door). */
  public AdminApi(Supervisor supervisor, ResponseCache cache) {
    this(supervisor, cache, null, new Info("unknown", null, null));
  }

  public AdminApi(Supervisor supervisor, ResponseCache cache, GatewayMetrics metrics, Info info) {
    this.supervisor = supervisor;
    this.cache = cache;
    this.metrics = metrics;
    this.info = info;
    this.view = new FunctionsView(cache, metrics);
    asset("index.html", "text/html; charset=utf-8");
    asset("dashboard.js", "text/javascript; charset=utf-8");
    asset("dashboard.css", "text/css; charset=utf-8");
  }

  /** The manifest now in effect (a reload changed it), with its text or null. */
  public void manifestInEffect(Manifest manifest, String text) {
    Info i = info;
    info = new Info(i.version(), manifest, text);
  }

  /** What {@code POST reload} runs (a blocking reload of the manifest file); null: none. */
  public void reloads(java.util.function.Supplier<ReloadResult> value) {
    this.reloads = value;
  }

  private void asset(String name, String contentType) {
    try (InputStream in = AdminApi.class.getResourceAsStream("dashboard/" + name)) {
      if (in == null) {
        throw new IllegalStateException("dashboard file " + name + " is missing from the build");
      }
      assets.put(name, new Asset(contentType, in.readAllBytes()));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** True when a canonical path belongs to the admin API. */
  public static boolean owns(String path) {
    return path.startsWith(PREFIX) || path.equals(PREFIX.substring(0, PREFIX.length() - 1));
  }

  /** Answers one admin request; may block briefly (stopping instances), never on an event loop. */
  public Answer handle(AdminRequest r) throws Problem {
    if (r.peer() == null || !r.peer().isLoopbackAddress()) {
      throw forbidden("the admin endpoints answer only clients on the loopback interface");
    }
    if (!loopbackHost(r.host())) {
      throw forbidden(
          "the admin endpoints answer only requests for localhost, 127.0.0.1 or [::1], not Host '"
              + r.host()
              + "' (protection against DNS rebinding)");
    }
    String path = r.path();
    String rest = path.length() >= PREFIX.length() ? path.substring(PREFIX.length()) : "";
    if (rest.isEmpty()) {
      rest = "index.html";
    }
    Asset asset = assets.get(rest);
    if (asset != null) {
      allow(r, GET);
      return new Answer(200, asset.contentType(), asset.body());
    }
    switch (rest) {
      case "metrics" -> {
        allow(r, GET);
        if (metrics == null) {
          throw notFound("metrics are not recorded by this gateway");
        }
        GatewayMetrics.Scrape s = metrics.scrape(r.accept());
        return new Answer(200, s.contentType(), s.body());
      }
      case "gateway" -> {
        allow(r, GET);
        return json(200, gateway());
      }
      case "manifest" -> {
        allow(r, GET);
        if (info.manifestText() == null) {
          throw notFound(
              "the manifest's text is not known (the gateway was not started from a file)");
        }
        return new Answer(
            200,
            "application/xml; charset=utf-8",
            info.manifestText().getBytes(StandardCharsets.UTF_8));
      }
      case "functions" -> {
        allow(r, GET);
        Json j = new Json().open().array("functions");
        for (FunctionPool pool : supervisor.pools()) {
          view.write(j, pool);
        }
        return json(200, j.closeArray().close());
      }
      case "reload" -> {
        allow(r, "POST");
        return reload();
      }
      case "cache/purge" -> {
        allow(r, "POST");
        return purge(r);
      }
      case "cache" -> {
        allow(r, "DELETE");
        return purge(r);
      }
      default -> {}
    }
    if (rest.startsWith("functions/")) {
      String tail = rest.substring("functions/".length());
      int slash = tail.indexOf('/');
      if (slash < 0) {
        allow(r, GET);
        Json j = new Json();
        view.write(j, pool(tail));
        return json(200, j);
      }
      String id = tail.substring(0, slash);
      String action = tail.substring(slash + 1);
      if (action.equals("start")
          || action.equals("stop")
          || action.equals("restart")
          || action.equals("drain")) {
        allow(r, "POST");
        return act(pool(id), action);
      }
    }
    throw notFound("no admin endpoint at " + path + "; there are " + ENDPOINTS);
  }

  private Answer act(FunctionPool pool, String action) {
    String id = pool.spec().id();
    Json j = new Json().open();
    switch (action) {
      case "start" -> {
        pool.start();
        j.field("started", id);
      }
      case "stop" -> {
        pool.stopInstances();
        if (cache != null) {
          cache.invalidate(id);
        }
        j.field("stopped", id);
      }
      case "drain" -> {
        pool.drain();
        j.field("drained", id);
      }
      default -> {
        int n = pool.restart();
        j.field("restarting", id).field("instances", n);
      }
    }
    return json(200, j.close());
  }

  /**
   * Reloads the manifest: 200 with what changed, or 422 problem+json with the file:line problems
   * (nothing changed then).
   */
  private Answer reload() throws Problem {
    java.util.function.Supplier<ReloadResult> r = reloads;
    if (r == null) {
      throw notFound(
          "this gateway was not started from a manifest file: there is nothing to reload");
    }
    ReloadResult result = r.get();
    if (!result.applied()) {
      Json j = new Json().open();
      j.field("type", "https://local-lambdas.dev/problems/manifest-invalid");
      j.field("title", "Unprocessable Content");
      j.field("status", 422);
      j.field(
          "detail",
          result.source()
              + " has errors; nothing was changed and the last good configuration stays in effect");
      j.array("problems");
      for (dev.locallambdas.manifest.ManifestProblem p : result.problems()) {
        if (p.isError()) {
          j.open();
          j.field("file", String.valueOf(p.file()));
          j.field("line", p.line());
          j.field("element", p.element());
          j.field("message", p.message());
          j.field("text", p.toString());
          j.close();
        }
      }
      j.closeArray();
      return new Answer(
          422, "application/problem+json", (j.close() + "\n").getBytes(StandardCharsets.UTF_8));
    }
    Json j = new Json().open();
    j.field("reloaded", result.source());
    list(j, "added", result.added());
    list(j, "changed", result.changed());
    list(j, "removed", result.removed());
    list(j, "unchanged", result.unchanged());
    j.open("failed");
    result.failed().forEach(j::field);
    j.close();
    return json(200, j.close());
  }

  private static void list(Json j, String name, java.util.List<String> values) {
    j.array(name);
    values.forEach(j::value);
    j.closeArray();
  }

  private Answer purge(AdminRequest r) throws Problem {
    String function = param(r.query(), "function");
    String url = param(r.query(), "url");
    if (cache == null) {
      return json(
          200,
          new Json().open().field("purged", "nothing").field("reason", "the cache is off").close());
    }
    if (function == null) {
      if (url != null) {
        throw Problem.of(400, "admin-bad-request", "Bad Request")
            .detail("purging one URL needs its function too: ?function=ID&url=" + url)
            .build();
      }
      cache.invalidateAll();
      return json(200, new Json().open().field("purged", "all").close());
    }
    pool(function);
    if (url == null) {
      cache.invalidate(function);
      return json(200, new Json().open().field("purged", function).close());
    }
    RequestTarget target;
    try {
      target = RequestTarget.parse(url);
    } catch (BadTargetException e) {
      throw Problem.of(400, "admin-bad-request", "Bad Request")
          .detail("url '" + url + "' is not a request target (/path?query): " + e.getMessage())
          .build();
    }
    FunctionCache fc = cache.function(function);
    if (fc != null) {
      fc.invalidate(target.path(), target.query());
    }
    String shown = target.path() + (target.query() != null ? "?" + target.query() : "");
    return json(200, new Json().open().field("purged", function).field("url", shown).close());
  }

  private Json gateway() {
    Json j = new Json().open();
    j.field("version", info.version());
    long started = metrics != null ? metrics.startMillis() : 0;
    if (started > 0) {
      j.field("startedAt", Instant.ofEpochMilli(started).toString());
      j.field("uptimeSeconds", (System.currentTimeMillis() - started) / 1000);
    }
    j.field("pid", ProcessHandle.current().pid());
    j.field("java", Runtime.version().toString());
    j.field("cache", cache != null);
    Manifest m = info.manifest();
    if (m != null) {
      j.open("manifest");
      j.field("path", m.source() != null ? m.source().toString() : null);
      j.field("format", m.originalFormat() ? "original" : "version 1");
      j.field("functions", m.functions().size());
      j.close();
    }
    return j.close();
  }

  private FunctionPool pool(String id) throws Problem {
    FunctionPool pool = supervisor.pool(id);
    if (pool == null) {
      throw notFound("there is no function '" + id + "' in the manifest");
    }
    return pool;
  }

  /**
   * Checks the method against what the endpoint takes ({@code allowed}, as in an Allow field), and
   * that a state change does not come from a page of another origin.
   */
  private static void allow(AdminRequest r, String allowed) throws Problem {
    String method = r.method();
    boolean ok =
        allowed.equals(GET)
            ? method.equals("GET") || method.equals("HEAD")
            : method.equals(allowed);
    if (!ok) {
      throw Problem.of(405, "admin-method", "Method Not Allowed")
          .detail(r.path() + " takes " + allowed + ", not " + method)
          .header("allow", allowed)
          .build();
    }
    if (allowed.equals(GET)) {
      return;
    }
    String site = r.fetchSite();
    if (site != null && !site.equals("same-origin") && !site.equals("none")) {
      throw forbidden(
          "the admin API takes state changes only from its own pages or from tools such as curl,"
              + " not from a "
              + site
              + " page (Sec-Fetch-Site)");
    }
    String origin = r.origin();
    if (origin != null && !origin.equalsIgnoreCase("http://" + r.host())) {
      throw forbidden(
          "the admin API takes state changes only from its own pages or from tools such as curl,"
              + " not from a page of origin "
              + origin);
    }
  }

  private static Problem forbidden(String detail) {
    return Problem.of(403, "admin-forbidden", "Forbidden").detail(detail).build();
  }

  private static Problem notFound(String detail) {
    return Problem.of(404, "admin-not-found", "Not Found").detail(detail).build();
  }

  private static Answer json(int status, Json j) {
    return new Answer(status, "application/json", (j + "\n").getBytes(StandardCharsets.UTF_8));
  }

  static boolean loopbackHost(String host) {
    if (host == null) {
      return false;
    }
    String h = host.toLowerCase(Locale.ROOT);
    if (h.startsWith("[")) {
      int end = h.indexOf(']');
      return end > 0 && h.substring(1, end).equals("::1") && portOnly(h.substring(end + 1));
    }
    int colon = h.indexOf(':');
    String name = colon >= 0 ? h.substring(0, colon) : h;
    return (name.equals("localhost") || name.equals("127.0.0.1"))
        && (colon < 0 || portOnly(h.substring(colon)));
  }

  private static boolean portOnly(String s) {
    return s.isEmpty()
        || (s.length() > 1
            && s.charAt(0) == ':'
            && s.substring(1).chars().allMatch(Character::isDigit));
  }

  private static String param(String query, String name) {
    if (query == null) {
      return null;
    }
    for (String part : query.split("&", -1)) {
      if (part.startsWith(name + "=")) {
        return java.net.URLDecoder.decode(
            part.substring(name.length() + 1), StandardCharsets.UTF_8);
      }
    }
    return null;
  }
}
