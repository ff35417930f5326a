package dev.locallambdas.transport.inprocess;

import dev.locallambdas.transport.Endpoint;
import dev.locallambdas.transport.EndpointContext;
import dev.locallambdas.transport.Transport;

/**
 * The direct driver: a Java Lambda handler ({@code RequestHandler} or {@code RequestStreamHandler}
 * of aws-lambda-java-core) loaded into the gateway in a class loader of its own and called on a
 * virtual thread per request, with the same events, routing, concurrency and timeouts as every
 * function (docs/in-process.md).
 */
public final class InProcessTransport implements Transport {
  @Override
  public Endpoint prepare(EndpointContext context) {
    return new HandlerEndpoint(context);
  }
}
