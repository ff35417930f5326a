package dev.locallambdas.server;

import dev.locallambdas.frontdoor.FrontDoor;
import dev.locallambdas.function.FunctionPool;
import dev.locallambdas.function.Supervisor;
import dev.locallambdas.manifest.FunctionSpec;
import dev.locallambdas.manifest.Manifest;
import dev.locallambdas.routing.RouteTable;
import dev.locallambdas.transport.Transports;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.function.UnaryOperator;
import java.util.logging.Logger;

/** A running gateway: the supervisor of the manifest's functions behind one front door. */
public final class Gateway implements AutoCloseable {
  private static final Logger LOG = Logger.getLogger("dev.locallambdas.server");

  private final Supervisor supervisor;
  private final FrontDoor frontDoor;
  private volatile boolean stopped;

  private Gateway(Supervisor supervisor, FrontDoor frontDoor) {
    this.supervisor = supervisor;
    this.frontDoor = frontDoor;
  }

  public static Gateway start(Manifest manifest, InetSocketAddress bind) throws IOException {
    return start(manifest, bind, UnaryOperator.identity());
  }

  /**
   * Starts the functions' supervisor (eager functions start now) and then the front door. If the
   * front door cannot bind, everything already started is stopped again.
   */
  public static Gateway start(
      Manifest manifest, InetSocketAddress bind, UnaryOperator<Supervisor.Builder> customize)
      throws IOException {
    Supervisor supervisor =
        customize.apply(Supervisor.builder(manifest).transports(Transports::forProtocol)).build();
    try {
      RouteTable.Builder<FunctionPool> routes = RouteTable.builder();
      for (FunctionSpec spec : manifest.functions()) {
        for (String route : spec.routes()) {
          routes.add(route, supervisor.pool(spec.id()));
        }
      }
      FrontDoor door = FrontDoor.start(bind, routes.build());
      return new Gateway(supervisor, door);
    } catch (IOException | RuntimeException e) {
      supervisor.close();
      throw e;
    }
  }

  public InetSocketAddress address() {
    return frontDoor.address();
  }

  public Supervisor supervisor() {
    return supervisor;
  }

  /**
   * Stops accepting connections, lets in-flight requests finish within {@code drainGrace}, then
   * stops every child (SIGTERM, SIGKILL after its stop_grace) and removes the socket files.
   */
  public void shutdown(Duration drainGrace) {
    if (stopped) {
      return;
    }
    stopped = true;
    LOG.info("shutting down: draining requests for up to " + drainGrace.toMillis() + " ms");
    frontDoor.stopAccepting();
    supervisor.shutdown(drainGrace);
    frontDoor.close();
    LOG.info("stopped");
  }

  @Override
  public void close() {
    shutdown(Duration.ZERO);
  }
}
