package dev.locallambdas.transport.lambda;

import dev.locallambdas.exchange.Request;
import dev.locallambdas.manifest.FunctionSpec;
import dev.locallambdas.transport.TransportException;

/**
 * API Gateway's side of a Lambda function, for transports that run handlers without the Runtime API
 * (in-process): the event a request becomes, and the response a result maps to, exactly as for
 * lambda functions.
 */
public final class ApiGateway {
  private ApiGateway() {}

  /** The event for {@code request} with its whole {@code body}, in the function's format. */
  public static byte[] event(FunctionSpec spec, Request request, byte[] body, String requestId) {
    return Events.build(spec.event(), request, body, requestId, Aws.of(spec));
  }

  /** The HTTP answer for a handler's result; a result API Gateway refuses is a RESET. */
  public static HttpAnswer response(FunctionSpec spec, byte[] result) throws TransportException {
    try {
      return Responses.map(spec.event(), result);
    } catch (Responses.MalformedException e) {
      throw new TransportException(TransportException.Kind.RESET, e.getMessage());
    }
  }

  /** The ARN a handler sees as its invoked function ARN. */
  public static String functionArn(FunctionSpec spec) {
    return Aws.of(spec).functionArn();
  }
}
