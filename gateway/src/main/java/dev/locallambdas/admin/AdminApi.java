package dev.locallambdas.admin;

import dev.locallambdas.cache.CacheStats;
import dev.locallambdas.cache.ResponseCache;
import dev.locallambdas.exchange.Problem;
import dev.locallambdas.function.FunctionPool;
import dev.locallambdas.function.InstanceView;
import dev.locallambdas.function.Supervisor;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * The gateway's own endpoints under {@value #PREFIX}: status, cache purge and stopping a function's
 * instances. Only for clients on the loopback interface that name a loopback host (a web page on
 * another origin cannot reach it through DNS rebinding), and nothing changes state on GET.
 *
 * <pre>
 * GET  /.local-lambdas/functions                  status of every function (JSON)
 * POST /.local-lambdas/cache/purge[?function=ID]  drop cached responses (all, or one function's)
 * POST /.local-lambdas/functions/ID/stop          stop ID's instances; the next request starts one
 * </pre>
 */
public final class AdminApi {
  public static final String PREFIX = "/.local-lambdas/";

  private final Supervisor supervisor;
  private final ResponseCache cache;

  public AdminApi(Supervisor supervisor, ResponseCache cache) {
    this.supervisor = supervisor;
    this.cache = cache;
  }

  /** A successful admin answer; the body array is the caller's to send, never modified. */
  @SuppressWarnings("ArrayRecordComponent")
  public record Answer(int status, byte[] body) {
    public String contentType() {
      return "application/json";
    }
  }

  /** True when a canonical path belongs to the admin API. */
  public static boolean owns(String path) {
    return path.startsWith(PREFIX) || path.equals(PREFIX.substring(0, PREFIX.length() - 1));
  }

  /** Answers one admin request; may block (stopping instances). */
  public Answer handle(String method, String path, String query, String host, InetAddress peer)
      throws Problem {
    if (peer == null || !peer.isLoopbackAddress()) {
      throw Problem.of(403, "admin-forbidden", "Forbidden")
          .detail("the admin endpoints answer only clients on the loopback interface")
          .build();
    }
    if (!loopbackHost(host)) {
      throw Problem.of(403, "admin-forbidden", "Forbidden")
          .detail(
              "the admin endpoints answer only requests for localhost, 127.0.0.1 or [::1], not Host '"
                  + host
                  + "' (protection against DNS rebinding)")
          .build();
    }
    String rest = path.length() >= PREFIX.length() ? path.substring(PREFIX.length()) : "";
    if (rest.equals("functions")) {
      requireMethod(method, "GET", path);
      return new Answer(200, json(status()));
    }
    if (rest.equals("cache/purge")) {
      requireMethod(method, "POST", path);
      String function = param(query, "function");
      if (cache == null) {
        return new Answer(200, json("{\"purged\":\"nothing\",\"reason\":\"the cache is off\"}"));
      }
      if (function == null) {
        cache.invalidateAll();
        return new Answer(200, json("{\"purged\":\"all\"}"));
      }
      pool(function);
      cache.invalidate(function);
      return new Answer(200, json("{\"purged\":" + quote(function) + "}"));
    }
    if (rest.startsWith("functions/") && rest.endsWith("/stop")) {
      requireMethod(method, "POST", path);
      String id = rest.substring("functions/".length(), rest.length() - "/stop".length());
      FunctionPool pool = pool(id);
      pool.stopInstances();
      if (cache != null) {
        cache.invalidate(id);
      }
      return new Answer(200, json("{\"stopped\":" + quote(id) + "}"));
    }
    throw Problem.of(404, "admin-not-found", "Not Found")
        .detail(
            "no admin endpoint at "
                + path
                + "; there are GET "
                + PREFIX
                + "functions, POST "
                + PREFIX
                + "cache/purge[?function=ID] and POST "
                + PREFIX
                + "functions/ID/stop")
        .build();
  }

  private FunctionPool pool(String id) throws Problem {
    FunctionPool pool = supervisor.pool(id);
    if (pool == null) {
      throw Problem.of(404, "admin-not-found", "Not Found")
          .detail("there is no function '" + id + "' in the manifest")
          .build();
    }
    return pool;
  }

  private static void requireMethod(String method, String expected, String path) throws Problem {
    if (!method.equals(expected)) {
      throw Problem.of(405, "admin-method", "Method Not Allowed")
          .detail(path + " takes " + expected + ", not " + method)
          .header("allow", expected)
          .build();
    }
  }

  private String status() {
    StringBuilder sb = new StringBuilder("{\"functions\":[");
    boolean first = true;
    for (FunctionPool pool : supervisor.pools()) {
      if (!first) {
        sb.append(',');
      }
      first = false;
      sb.append("{\"id\":").append(quote(pool.spec().id()));
      sb.append(",\"protocol\":").append(quote(pool.spec().protocol().manifestName()));
      sb.append(",\"routes\":[");
      for (int i = 0; i < pool.spec().routes().size(); i++) {
        sb.append(i > 0 ? "," : "").append(quote(pool.spec().routes().get(i)));
      }
      sb.append("],\"inFlight\":").append(pool.inFlight()).append(",\"instances\":[");
      boolean firstInstance = true;
      for (InstanceView v : pool.instances()) {
        sb.append(firstInstance ? "" : ",");
        firstInstance = false;
        sb.append("{\"number\":")
            .append(v.number())
            .append(",\"pid\":")
            .append(v.pid())
            .append(",\"state\":")
            .append(quote(v.state().name().toLowerCase(Locale.ROOT)))
            .append(",\"inFlight\":")
            .append(v.inFlight())
            .append(",\"served\":")
            .append(v.served())
            .append('}');
      }
      sb.append(']');
      if (cache != null && cache.function(pool.spec().id()) != null) {
        CacheStats c = cache.stats(pool.spec().id());
        sb.append(",\"cache\":{\"hits\":")
            .append(c.hits())
            .append(",\"misses\":")
            .append(c.misses())
            .append(",\"stores\":")
            .append(c.stores())
            .append(",\"evictions\":")
            .append(c.evictions())
            .append(",\"bytes\":")
            .append(c.bytes())
            .append('}');
      }
      sb.append('}');
    }
    return sb.append("]}").toString();
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

  private static byte[] json(String s) {
    return (s + "\n").getBytes(StandardCharsets.UTF_8);
  }

  private static String quote(String s) {
    StringBuilder sb = new StringBuilder(s.length() + 2).append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '"' || c == '\\') {
        sb.append('\\').append(c);
      } else if (c < 0x20) {
        sb.append(String.format("\\u%04x", (int) c));
      } else {
        sb.append(c);
      }
    }
    return sb.append('"').toString();
  }
}
