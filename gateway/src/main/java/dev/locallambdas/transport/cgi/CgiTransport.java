package dev.locallambdas.transport.cgi;

import dev.locallambdas.transport.Endpoint;
import dev.locallambdas.transport.EndpointContext;
import dev.locallambdas.transport.Transport;

/**
 * CGI (RFC 3875): the function's program is started for every request with the standard
 * meta-variables, gets the body on stdin and answers with CGI response headers and the body on
 * stdout (docs/cgi.md), so a shell script or an old CGI program is a function.
 */
public final class CgiTransport implements Transport {
  @Override
  public Endpoint prepare(EndpointContext context) {
    return new CgiEndpoint(context);
  }
}
