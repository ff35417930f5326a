package benchfn;

import dev.locallambdas.sdk.Handler;
import dev.locallambdas.sdk.LocalLambdas;
import dev.locallambdas.sdk.Request;
import dev.locallambdas.sdk.Response;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Benchmark function, pipe-only: the Java SDK and nothing else (bench/manifest.xml starts it with a
 * class path of this module's classes and the SDK, no web server on it). GET answers a small fixed
 * JSON body ({@code no-store}, or cacheable for paths ending in {@code /cached}); POST streams the
 * body back.
 */
public final class PipeFunction implements Handler {
  private static final byte[] BODY =
      "{\"ok\":true,\"runtime\":\"java\",\"transport\":\"pipe\"}".getBytes(StandardCharsets.UTF_8);

  public static void main(String[] args) {
    LocalLambdas.serve(new PipeFunction());
  }

  @Override
  public Response handle(Request request) {
    if (request.method().equals("POST")) {
      return Response.streaming(200, new Copy(request))
          .header("content-type", "application/octet-stream")
          .header("cache-control", "no-store");
    }
    String cache = request.path().endsWith("/cached") ? "public, max-age=3600" : "no-store";
    return Response.of(200, BODY)
        .header("content-type", "application/json")
        .header("cache-control", cache);
  }

  /** Copies the request body to the response as it arrives. */
  private static final class Copy implements Response.BodyWriter {
    private final Request request;

    Copy(Request request) {
      this.request = request;
    }

    @Override
    public void writeTo(OutputStream out) throws IOException {
      request.body().transferTo(out);
    }
  }
}
