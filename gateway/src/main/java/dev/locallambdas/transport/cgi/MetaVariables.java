package dev.locallambdas.transport.cgi;

import dev.locallambdas.exchange.Headers;
import dev.locallambdas.exchange.Request;
import dev.locallambdas.manifest.FunctionSpec;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/** The request meta-variables of RFC 3875 section 4.1, for one request. */
final class MetaVariables {
  private MetaVariables() {}

  static Map<String, String> of(Request request, FunctionSpec spec, Path workDir) {
    Map<String, String> env = new LinkedHashMap<>();
    Headers h = request.headers();
    String script = scriptName(request.path(), spec);
    String pathInfo = request.path().substring(script.length());
    env.put("GATEWAY_INTERFACE", "CGI/1.1");
    env.put("SERVER_PROTOCOL", "HTTP/1.1");
    env.put("SERVER_SOFTWARE", "local-lambdas");
    env.put("REQUEST_METHOD", request.method());
    env.put("SCRIPT_NAME", script);
    env.put("PATH_INFO", pathInfo);
    if (!pathInfo.isEmpty()) {
      env.put("PATH_TRANSLATED", workDir.resolve(pathInfo.substring(1)).toString());
    }
    env.put("QUERY_STRING", request.query() == null ? "" : request.query());
    String client = request.clientAddress() == null ? "127.0.0.1" : request.clientAddress();
    env.put("REMOTE_ADDR", client);
    env.put("REMOTE_HOST", client);
    String host = h.get("host");
    String name = host == null ? "localhost" : host;
    String port = "80";
    int colon = name.lastIndexOf(':');
    if (colon > 0 && name.indexOf(']') < colon) {
      port = name.substring(colon + 1);
      name = name.substring(0, colon);
    }
    env.put("SERVER_NAME", name);
    env.put("SERVER_PORT", port);
    if (request.bodyLength() > 0) {
      env.put("CONTENT_LENGTH", Long.toString(request.bodyLength()));
    }
    if (h.get("content-type") != null) {
      env.put("CONTENT_TYPE", h.get("content-type"));
    }
    for (int i = 0; i < h.size(); i++) {
      String field = h.name(i);
      // Content-Length and -Type have variables of their own; Authorization and Proxy are not
      // passed as HTTP_ variables (RFC 3875 4.1.18; "httpoxy").
      if (field.equals("content-length")
          || field.equals("content-type")
          || field.equals("authorization")
          || field.equals("proxy")) {
        continue;
      }
      String var = "HTTP_" + field.toUpperCase(Locale.ROOT).replace('-', '_');
      env.merge(var, h.value(i), (a, b) -> a + ", " + b);
    }
    return env;
  }

  /**
   * The part of the path the function's route stands for: "/cgi" for "/cgi/*" and "/cgi/x"; "" when
   * a route ends at the root.
   */
  static String scriptName(String path, FunctionSpec spec) {
    for (String route : spec.routes()) {
      String prefix = route.endsWith("/*") ? route.substring(0, route.length() - 2) : route;
      if (prefix.endsWith("*")) {
        prefix = prefix.substring(0, prefix.length() - 1);
      }
      if (path.equals(prefix) || path.startsWith(prefix + "/")) {
        return prefix.equals("/") ? "" : prefix;
      }
    }
    return "";
  }
}
