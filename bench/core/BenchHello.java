import dev.locallambdas.sdk.Handler;
import dev.locallambdas.sdk.LocalLambdas;
import dev.locallambdas.sdk.Request;
import dev.locallambdas.sdk.Response;
import java.nio.charset.StandardCharsets;

/**
 * The smallest useful Java pipe function: answers every request with "hello\n", no JSON, so the
 * benchmark measures the gateway and the SDK rather than the handler. A named class rather than a
 * lambda keeps the cold start free of the invokedynamic bootstrap.
 */
public final class BenchHello implements Handler {
  private static final byte[] HELLO = "hello\n".getBytes(StandardCharsets.US_ASCII);

  public static void main(String[] args) {
    LocalLambdas.serve(new BenchHello());
  }

  @Override
  public Response handle(Request request) {
    return Response.of(200, HELLO).header("content-type", "text/plain");
  }
}
