package dev.locallambdas.it.lambda;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import java.util.Map;

/** Logs a line to stdout, as most handlers log, for the Invoke API's log tail. */
public class PrintingHandler implements RequestHandler<Map<String, Object>, String> {
  @Override
  public String handleRequest(Map<String, Object> event, Context context) {
    System.out.println("printing handler called for " + event.get("rawPath"));
    return "printed";
  }
}
