package dev.locallambdas.transport.lambda;

import dev.locallambdas.transport.Endpoint;
import dev.locallambdas.transport.EndpointContext;
import dev.locallambdas.transport.Transport;
import java.io.IOException;

/**
 * The AWS Lambda Runtime API (2018-06-01), served by the gateway: each instance is one execution
 * environment with a listener of its own on a loopback port, which its runtime finds in
 * AWS_LAMBDA_RUNTIME_API and long-polls for invocations (docs/lambda.md, ADR 0012).
 */
public final class LambdaTransport implements Transport {
  @Override
  public Endpoint prepare(EndpointContext context) throws IOException {
    return Environment.listen(context);
  }
}
