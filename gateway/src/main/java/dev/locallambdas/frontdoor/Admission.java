package dev.locallambdas.frontdoor;

import dev.locallambdas.admin.AdminApi;
import dev.locallambdas.exchange.Problem;
import dev.locallambdas.function.FunctionPool;
import dev.locallambdas.manifest.Protocol;
import dev.locallambdas.routing.BadTargetException;
import dev.locallambdas.routing.RequestTarget;
import dev.locallambdas.routing.RouteTable;
import dev.locallambdas.transport.lambda.InvokeApi;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import java.util.List;
import java.util.Set;

/**
 * Decides, from a request head alone, whether the gateway serves a request and where: everything
 * the gateway refuses is refused here, before a function is involved — malformed requests (400, or
 * 505 for another major HTTP version), oversized request lines (414) and headers (431), unknown
 * routes (404), methods a function does not take (501), declared bodies over the function's limit
 * (413), transfer codings other than chunked (501) and expectations other than 100-continue (417).
 * A pure function: no I/O, no state. See docs/frontdoor.md.
 */
final class Admission {
  private Admission() {}

  /** Methods every function accepts; others only when its manifest lists them (<method>). */
  private static final Set<String> STANDARD_METHODS =
      Set.of("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS");

  /** Methods the gateway never forwards, whatever the manifest says. */
  private static final Set<String> NEVER_FORWARDED = Set.of("TRACE", "CONNECT");

  /** What to do with a request. */
  sealed interface Decision permits Refused, Admin, Routed {}

  /** Answer {@code problem}; {@code close}: the connection cannot be trusted afterwards. */
  record Refused(Problem problem, boolean close) implements Decision {}

  /** A request for the gateway's own admin endpoints. */
  record Admin(RequestTarget target, String host, boolean http10) implements Decision {}

  /**
   * A request for a function. {@code length} is the declared body length (0 none, -1 chunked);
   * {@code expectContinue}: the client waits for 100 Continue before sending the body.
   */
  record Routed(
      FunctionPool pool,
      RequestTarget target,
      String host,
      long length,
      boolean expectContinue,
      boolean http10,
      boolean keepAlive)
      implements Decision {
    boolean hasBody() {
      return length != 0;
    }
  }

  static Decision decide(HttpRequest req, RouteTable<FunctionPool> routes, boolean admin) {
    if (req.decoderResult().isFailure()) {
      Throwable cause = req.decoderResult().cause();
      if (cause instanceof TooLongHttpLineException) {
        return refuse(
            414, "URI Too Long", "the request line is longer than the gateway accepts (8 KiB)");
      }
      if (cause instanceof TooLongHttpHeaderException || cause instanceof TooLongFrameException) {
        return refuse(
            431,
            "Request Header Fields Too Large",
            "the request headers are larger than the gateway accepts (16 KiB)");
      }
      return refuse(400, "Bad Request", "the request is not valid HTTP/1.1: " + cause.getMessage());
    }
    HttpVersion version = req.protocolVersion();
    if (version.majorVersion() != 1) {
      return refuse(
          505,
          "HTTP Version Not Supported",
          "only HTTP/1.0 and HTTP/1.1 are supported, not " + version.text());
    }
    // HTTP/1.2 and later minor versions are served as HTTP/1.1 (RFC 9112 section 2.3).
    boolean http10 = version.minorVersion() == 0;
    HttpHeaders h = req.headers();
    List<String> hosts = h.getAll(HttpHeaderNames.HOST);
    if ((!http10 && hosts.size() != 1) || hosts.size() > 1) {
      return refuse(
          400,
          "Bad Request",
          "an HTTP/1.1 request needs exactly one Host header, not " + hosts.size());
    }
    String host = hosts.isEmpty() ? null : hosts.get(0);
    if (host != null && !AbsoluteForm.validHost(host)) {
      return refuse(400, "Bad Request", "the Host header is not a valid host[:port]");
    }
    String transferEncoding = h.get(HttpHeaderNames.TRANSFER_ENCODING);
    boolean chunked = transferEncoding != null;
    if (chunked && h.contains(HttpHeaderNames.CONTENT_LENGTH)) {
      return refuse(
          400, "Bad Request", "Content-Length and Transfer-Encoding must not both be sent");
    }
    if (chunked && !transferEncoding.strip().equalsIgnoreCase("chunked")) {
      // Netty already refused a final coding other than chunked (400, RFC 9112 section 6.3); a
      // coding applied before chunked (gzip, chunked) is one the gateway does not implement.
      return new Refused(
          Problem.of(501, "bad-request", "Not Implemented")
              .detail(
                  "the only transfer coding the gateway accepts is chunked; send the body without '"
                      + transferEncoding
                      + "'")
              .build(),
          true);
    }
    String uri = req.uri();
    if (!uri.isEmpty() && uri.charAt(0) != '/') {
      // Absolute-form (RFC 9112 section 3.2.2: a server MUST accept it): its authority replaces
      // the Host field, and the request is routed by its path.
      int pathStart = AbsoluteForm.pathStart(uri);
      if (pathStart < 0) {
        return refuse(
            400,
            "Bad Request",
            "the request target must be a path (/a/b) or an absolute http URI (http://host/a/b)"
                + " without user info");
      }
      host = AbsoluteForm.authority(uri, pathStart);
      uri =
          pathStart == uri.length() || uri.charAt(pathStart) == '?'
              ? "/" + uri.substring(pathStart)
              : uri.substring(pathStart);
    }
    RequestTarget target;
    try {
      target = RequestTarget.parse(uri);
    } catch (BadTargetException e) {
      return refuse(400, "Bad Request", "bad request target: " + e.getMessage());
    }
    if (admin && AdminApi.owns(target.path())) {
      return new Admin(target, host, http10);
    }
    String method = req.method().name();
    FunctionPool pool;
    String invoked = InvokeApi.functionName(target.path());
    if (invoked != null) {
      pool = lambdaFunction(routes, invoked);
      if (pool == null) {
        // As AWS answers, with x-amzn-ErrorType so the AWS SDKs raise the matching exception.
        return new Refused(
            Problem.of(404, "no-function", "Not Found")
                .header("x-amzn-errortype", "ResourceNotFoundException")
                .detail(
                    "Function not found: no lambda function '"
                        + invoked
                        + "' in the manifest (the Invoke API serves functions with"
                        + " <protocol>lambda</protocol>)")
                .build(),
            false);
      }
      if (!method.equals("POST")) {
        return new Refused(
            Problem.of(405, "method-not-allowed", "Method Not Allowed")
                .function(invoked)
                .header("allow", "POST")
                .detail("the Invoke API takes POST, not " + method)
                .build(),
            false);
      }
    } else {
      RouteTable.Match<FunctionPool> match = routes.match(target.path());
      if (match == null) {
        return new Refused(
            Problem.of(404, "no-route", "Not Found")
                .detail(
                    "no function is routed at "
                        + target.path()
                        + "; add a <route> for it to the manifest")
                .build(),
            false);
      }
      pool = match.target();
    }
    String id = pool.spec().id();
    if (NEVER_FORWARDED.contains(method)) {
      return new Refused(
          Problem.of(501, "method-not-implemented", "Not Implemented")
              .function(id)
              .detail(
                  "the gateway never forwards "
                      + method
                      + " to a function (it would expose the gateway's own connections)")
              .build(),
          true);
    }
    if (!STANDARD_METHODS.contains(method) && !pool.spec().extraMethods().contains(method)) {
      return new Refused(
          Problem.of(501, "method-not-implemented", "Not Implemented")
              .function(id)
              .detail(
                  "function '"
                      + id
                      + "' does not accept method "
                      + method
                      + "; add <method>"
                      + method
                      + "</method> to it in the manifest to pass it on")
              .build(),
          true);
    }
    long max = pool.spec().maxBodyBytes();
    long length = chunked ? -1 : HttpUtil.getContentLength(req, 0L);
    if (length > max) {
      return new Refused(
          tooLarge(id, "the request body of " + length + " bytes is larger than", max), true);
    }
    boolean expectContinue = false;
    String expect = h.get(HttpHeaderNames.EXPECT);
    if (expect != null) {
      if (!expect.strip().equalsIgnoreCase("100-continue")
          || h.getAll(HttpHeaderNames.EXPECT).size() > 1) {
        return refuse(
            417,
            "Expectation Failed",
            "only 'Expect: 100-continue' is supported, not '" + expect + "'");
      }
      // HTTP/1.0 clients do not know 100-continue (RFC 9110 section 10.1.1): ignored for them.
      expectContinue = !http10 && length != 0;
    }
    return new Routed(
        pool, target, host, length, expectContinue, http10, HttpUtil.isKeepAlive(req));
  }

  /** The lambda function an Invoke API request names, or null when there is none by that name. */
  private static FunctionPool lambdaFunction(RouteTable<FunctionPool> routes, String name) {
    for (RouteTable.Match<FunctionPool> m : routes.routes()) {
      if (m.target().spec().id().equals(name) && m.target().spec().protocol() == Protocol.LAMBDA) {
        return m.target();
      }
    }
    return null;
  }

  private static Refused refuse(int status, String title, String detail) {
    return new Refused(Problem.of(status, "bad-request", title).detail(detail).build(), true);
  }

  static Problem tooLarge(String function, String what, long limit) {
    return Problem.of(413, "body-too-large", "Content Too Large")
        .function(function)
        .detail(
            what + " the " + limit + " bytes function '" + function + "' accepts (<max_body_size>)")
        .build();
  }

  static boolean isHead(HttpRequest req) {
    return req.method().equals(HttpMethod.HEAD);
  }
}
