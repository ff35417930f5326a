package dev.locallambdas.it.lambda;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import java.util.Map;

/** Returns a bare JSON object: HTTP API 2.0 makes it the body of a 200 application/json. */
public class BareHandler implements RequestHandler<Map<String, Object>, Map<String, Object>> {
  @Override
  public Map<String, Object> handleRequest(Map<String, Object> event, Context context) {
    return Map.of("hello", "world", "rawPath", String.valueOf(event.get("rawPath")));
  }
}
