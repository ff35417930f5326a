package dev.locallambdas.it.lambda;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import com.amazonaws.services.lambda.runtime.events.APIGatewayProxyRequestEvent;
import com.amazonaws.services.lambda.runtime.events.APIGatewayProxyResponseEvent;
import java.util.List;
import java.util.Map;

/** A REST API (1.0) handler: echoes the multi-value query and answers with two header values. */
public class RestHandler
    implements RequestHandler<APIGatewayProxyRequestEvent, APIGatewayProxyResponseEvent> {
  @Override
  public APIGatewayProxyResponseEvent handleRequest(
      APIGatewayProxyRequestEvent event, Context context) {
    return new APIGatewayProxyResponseEvent()
        .withStatusCode(202)
        .withMultiValueHeaders(Map.of("X-Multi", List.of("a", "b")))
        .withBody(
            event.getHttpMethod()
                + " "
                + event.getPath()
                + " "
                + event.getMultiValueQueryStringParameters()
                + " proxy="
                + event.getPathParameters().get("proxy"));
  }
}
