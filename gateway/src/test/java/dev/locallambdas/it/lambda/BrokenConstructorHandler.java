package dev.locallambdas.it.lambda;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import java.util.Map;

/** Its constructor throws: the runtime reports an init error and exits. */
public class BrokenConstructorHandler implements RequestHandler<Map<String, Object>, String> {
  public BrokenConstructorHandler() {
    throw new IllegalArgumentException("no configuration for the broken handler");
  }

  @Override
  public String handleRequest(Map<String, Object> event, Context context) {
    return "unreachable";
  }
}
