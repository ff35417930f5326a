package dev.locallambdas.it.lambda;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPEvent;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPResponse;
import java.util.Map;

/** Takes the events library's HTTP API event type, as most Java Lambda functions do. */
public class EventPojoHandler
    implements RequestHandler<APIGatewayV2HTTPEvent, APIGatewayV2HTTPResponse> {
  @Override
  public APIGatewayV2HTTPResponse handleRequest(APIGatewayV2HTTPEvent event, Context context) {
    return APIGatewayV2HTTPResponse.builder()
        .withStatusCode(200)
        .withHeaders(Map.of("content-type", "text/plain"))
        .withBody(
            event.getRequestContext().getHttp().getMethod()
                + " "
                + event.getRawPath()
                + " q="
                + event.getQueryStringParameters().get("q")
                + " ua="
                + event.getHeaders().get("x-test")
                + " cookies="
                + event.getCookies()
                + " body="
                + event.getBody()
                + " base64="
                + event.getIsBase64Encoded()
                + " epoch>0="
                + (event.getRequestContext().getTimeEpoch() > 0))
        .build();
  }
}
