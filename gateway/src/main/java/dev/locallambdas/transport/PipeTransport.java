package dev.locallambdas.transport;

import java.io.IOException;
import java.util.function.LongSupplier;

/**
 * The pipe protocol (docs/protocol.md): the gateway listens on a Unix socket in its run directory,
 * the child connects and says HELLO, and then one connection carries all of the instance's requests
 * as binary frames.
 */
final class PipeTransport implements Transport {
  private final LongSupplier nanoTime;

  PipeTransport() {
    this(System::nanoTime);
  }

  /** {@code nanoTime} drives the start-up deadline. */
  PipeTransport(LongSupplier nanoTime) {
    this.nanoTime = nanoTime;
  }

  @Override
  public PipeEndpoint prepare(EndpointContext context) throws IOException {
    return PipeEndpoint.listen(context, nanoTime);
  }
}
