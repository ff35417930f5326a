package example;

import dev.locallambdas.sdk.Handler;
import dev.locallambdas.sdk.LocalLambdas;
import dev.locallambdas.sdk.Request;
import dev.locallambdas.sdk.Response;
import java.io.IOException;
import java.io.OutputStream;

/**
 * A pipe function that sends the request body back as it arrives, without holding it in memory: the
 * response starts streaming while the upload is still coming in.
 */
public final class Echo implements Handler {

  public static void main(String[] args) {
    LocalLambdas.serve(new Echo());
  }

  @Override
  public Response handle(Request request) {
    String type = request.header("content-type");
    Response response = Response.streaming(200, new Copy(request));
    return response.header("content-type", type == null ? "application/octet-stream" : type);
  }

  /** Copies the request body to the response body, one chunk at a time. */
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
