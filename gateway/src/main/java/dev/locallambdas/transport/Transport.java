package dev.locallambdas.transport;

import java.io.IOException;

/**
 * A way of talking to a function's processes. One implementation per protocol (pipe, http, legacy
 * pipe, legacy http); the seams for shared memory, in-process Java handlers, the AWS Lambda Runtime
 * API and fork-per-request stdio are further implementations of this interface.
 */
public interface Transport {
  /** Creates the endpoint for a new instance, before its process is started. */
  Endpoint prepare(EndpointContext context) throws IOException;
}
