package dev.locallambdas.transport.pipe;

import dev.locallambdas.transport.Endpoint;
import dev.locallambdas.transport.EndpointContext;
import dev.locallambdas.transport.Transport;
import java.io.IOException;

/**
 * The pipe protocol (docs/protocol.md): the gateway listens on a Unix socket in its run directory,
 * the child connects and says HELLO, and then one connection, on one of the gateway's event loops,
 * carries all of the instance's requests as binary frames.
 */
public final class PipeTransport implements Transport {
  @Override
  public Endpoint prepare(EndpointContext context) throws IOException {
    return PipeEndpoint.listen(context);
  }
}
