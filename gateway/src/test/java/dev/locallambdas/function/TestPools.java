package dev.locallambdas.function;

import dev.locallambdas.clock.Clock;
import dev.locallambdas.clock.Scheduler;
import dev.locallambdas.manifest.FunctionSpec;
import dev.locallambdas.transport.Endpoint;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * Pools for tests of the layers above: instances that are ready the moment they are asked for, on
 * endpoints the test provides, with no process behind them.
 */
public final class TestPools {
  private TestPools() {}

  /** What the pool asked to stop, for assertions. */
  public static final class Stops {
    public final List<String> stopped = new ArrayList<>();
    public final List<String> hung = new ArrayList<>();
  }

  public static FunctionPool instant(
      FunctionSpec spec,
      Supplier<Endpoint> endpoints,
      Clock clock,
      Scheduler scheduler,
      Stops stops) {
    Starter starter =
        new Starter() {
          @Override
          public void start(FunctionPool pool, Instance in) {
            pool.spawned(in, endpoints.get(), null);
            pool.ready(in);
          }

          @Override
          public void stop(FunctionPool pool, Instance in, boolean hung) {
            (hung ? stops.hung : stops.stopped).add(in.label);
            pool.exited(in, dev.locallambdas.process.ExitStatus.of(0));
          }

          @Override
          public void kill(Instance in) {
            stops.stopped.add(in.label);
          }
        };
    return new FunctionPool(spec, starter, null, clock, scheduler);
  }
}
