package dev.locallambdas.transport.legacy;

import dev.locallambdas.manifest.FunctionSpec;
import dev.locallambdas.manifest.Protocol;
import dev.locallambdas.transport.Endpoint;
import dev.locallambdas.transport.EndpointContext;
import dev.locallambdas.transport.Transport;
import dev.locallambdas.transport.http.HttpPorts;
import dev.locallambdas.transport.http.HttpReadiness;
import java.io.IOException;
import java.util.function.LongSupplier;

/**
 * Protocol "legacy-http": the original local_lambdas' http mode. The child runs an HTTP server at
 * HTTP_ADDRESS=127.0.0.1:PORT; each request is POSTed to "/" as the original's request JSON and the
 * child answers 2xx with the response JSON. Unlike the original, the port is allocated free rather
 * than derived from a hash of pipe_name, so two functions never collide.
 */
public final class LegacyHttpTransport implements Transport {
  private final HttpReadiness readiness;

  public LegacyHttpTransport() {
    this(System::nanoTime);
  }

  LegacyHttpTransport(LongSupplier nanos) {
    this.readiness = new HttpReadiness(nanos);
  }

  @Override
  public Endpoint prepare(EndpointContext context) throws IOException {
    FunctionSpec f = context.function();
    if (f.protocol() != Protocol.LEGACY_HTTP) {
      throw new IllegalArgumentException(
          "LegacyHttpTransport serves protocol legacy-http, not "
              + f.protocol().manifestName()
              + " of "
              + f.id());
    }
    return new LegacyHttpEndpoint(context, HttpPorts.allocateLoopback(), readiness);
  }
}
