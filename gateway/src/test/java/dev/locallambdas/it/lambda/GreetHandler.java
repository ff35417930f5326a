package dev.locallambdas.it.lambda;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPEvent;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPResponse;
import java.util.List;
import java.util.Map;

/**
 * A real Lambda handler on the official types: reports what it was given (an HTTP API 2.0 event and
 * the context) and answers with a status, a header and a cookie of its own.
 */
public class GreetHandler
    implements RequestHandler<APIGatewayV2HTTPEvent, APIGatewayV2HTTPResponse> {
  @Override
  public APIGatewayV2HTTPResponse handleRequest(APIGatewayV2HTTPEvent event, Context context) {
    Map<String, String> query = event.getQueryStringParameters();
    String body =
        "{\"method\":\""
            + event.getRequestContext().getHttp().getMethod()
            + "\",\"rawPath\":\""
            + event.getRawPath()
            + "\",\"rawQueryString\":\""
            + event.getRawQueryString()
            + "\",\"name\":\""
            + (query == null ? null : query.get("name"))
            + "\",\"cookies\":\""
            + event.getCookies()
            + "\",\"body\":\""
            + event.getBody()
            + "\",\"base64\":"
            + event.getIsBase64Encoded()
            + ",\"function\":\""
            + context.getFunctionName()
            + "\",\"memory\":"
            + context.getMemoryLimitInMB()
            + ",\"remainingMs\":"
            + context.getRemainingTimeInMillis()
            + ",\"arn\":\""
            + context.getInvokedFunctionArn()
            + "\",\"requestId\":\""
            + context.getAwsRequestId()
            + "\"}";
    return APIGatewayV2HTTPResponse.builder()
        .withStatusCode(201)
        .withHeaders(Map.of("Content-Type", "application/json", "X-Handler", "greet"))
        .withCookies(List.of("seen=1; Path=/"))
        .withBody(body)
        .build();
  }
}
