package dev.locallambdas.it.lambda;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPResponse;
import java.util.List;
import java.util.Map;

/** Takes the event as a map and answers with the events library's response bean. */
public class BeanHandler implements RequestHandler<Map<String, Object>, APIGatewayV2HTTPResponse> {
  @Override
  public APIGatewayV2HTTPResponse handleRequest(Map<String, Object> event, Context context) {
    context.getLogger().log("bean handler called for " + event.get("rawPath"));
    return APIGatewayV2HTTPResponse.builder()
        .withStatusCode(201)
        .withHeaders(Map.of("X-Function", context.getFunctionName()))
        .withCookies(List.of("k=v"))
        .withBody("path " + event.get("rawPath") + ", " + context.getMemoryLimitInMB() + " MB")
        .build();
  }
}
