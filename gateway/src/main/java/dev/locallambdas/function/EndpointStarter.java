package dev.locallambdas.function;

import dev.locallambdas.loops.EventLoops;
import dev.locallambdas.manifest.FunctionSpec;
import dev.locallambdas.process.ExitStatus;
import dev.locallambdas.transport.Endpoint;
import dev.locallambdas.transport.EndpointContext;
import dev.locallambdas.transport.Transport;
import java.nio.file.Path;

/**
 * Starts instances that have no long-lived process of their own: the endpoint is the instance (a
 * CGI program is forked per request by its endpoint). Stopping closes the endpoint, and the
 * instance is gone at once: there is no process whose exit to wait for.
 */
final class EndpointStarter implements Starter {
  private final FunctionSpec spec;
  private final Transport transport;
  private final Path runDirectory;
  private final EventLoops loops;

  EndpointStarter(FunctionSpec spec, Transport transport, Path runDirectory, EventLoops loops) {
    this.spec = spec;
    this.transport = transport;
    this.runDirectory = runDirectory;
    this.loops = loops;
  }

  @Override
  public void start(FunctionPool pool, Instance in) {
    Thread.ofVirtual().name("start-" + in.label).start(() -> run(pool, in));
  }

  private void run(FunctionPool pool, Instance in) {
    Endpoint endpoint = null;
    try {
      endpoint =
          transport.prepare(new EndpointContext(spec, in.number, runDirectory, loops, in.loop));
      if (!pool.spawned(in, endpoint, null)) {
        throw new IllegalStateException("start abandoned"); // timed out or shut down meanwhile
      }
      endpoint.awaitReady(spec.startupTimeout(), ProcessHandle.current());
      pool.ready(in);
    } catch (Exception e) {
      if (e instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
      if (endpoint != null) {
        endpoint.close();
      }
      pool.startFailed(in, e.getMessage() != null ? e.getMessage() : e.toString());
    }
  }

  @Override
  public void stop(FunctionPool pool, Instance in, boolean hung) {
    kill(in);
    pool.exited(in, ExitStatus.of(0));
  }

  @Override
  public void kill(Instance in) {
    Endpoint endpoint = in.endpoint;
    if (endpoint != null) {
      endpoint.close();
    }
  }
}
