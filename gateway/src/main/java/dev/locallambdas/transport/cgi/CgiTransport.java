package dev.locallambdas.transport.cgi;

import dev.locallambdas.process.ChildLauncher;
import dev.locallambdas.transport.Endpoint;
import dev.locallambdas.transport.EndpointContext;
import dev.locallambdas.transport.Transport;

/**
 * CGI (RFC 3875): the function's program is started for every request with the standard
 * meta-variables, gets the body on stdin and answers with CGI response headers and the body on
 * stdout (docs/cgi.md), so a shell script or an old CGI program is a function.
 */
public final class CgiTransport implements Transport {
  private final ChildLauncher launcher;

  /** Programs started the plain JDK way, outside the keeper's care (for tests without one). */
  public CgiTransport() {
    this(null);
  }

  private CgiTransport(ChildLauncher launcher) {
    this.launcher = launcher;
  }

  /** Programs started by {@code launcher}: own session, killed with the gateway (ADR 0006). */
  public static CgiTransport under(ChildLauncher launcher) {
    return new CgiTransport(launcher);
  }

  @Override
  public Endpoint prepare(EndpointContext context) {
    return new CgiEndpoint(context, launcher);
  }
}
