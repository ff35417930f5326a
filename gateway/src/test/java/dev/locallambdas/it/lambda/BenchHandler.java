package dev.locallambdas.it.lambda;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestStreamHandler;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/**
 * The benchmark's logic (bench/lambda.sh) as a Lambda stream handler: the fixed JSON body of
 * bench's PipeFunction, as an API Gateway proxy response, whatever the event.
 */
public class BenchHandler implements RequestStreamHandler {
  private static final byte[] RESPONSE =
      ("{\"statusCode\":200,\"headers\":{\"content-type\":\"application/json\","
              + "\"cache-control\":\"no-store\"},"
              + "\"body\":\"{\\\"ok\\\":true,\\\"runtime\\\":\\\"java\\\",\\\"transport\\\":\\\"lambda\\\"}\"}")
          .getBytes(StandardCharsets.UTF_8);

  @Override
  public void handleRequest(InputStream input, OutputStream output, Context context)
      throws IOException {
    input.transferTo(OutputStream.nullOutputStream());
    output.write(RESPONSE);
  }
}
