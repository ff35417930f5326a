package dev.locallambdas.function;

import dev.locallambdas.loops.EventLoops;
import dev.locallambdas.manifest.FunctionSpec;
import dev.locallambdas.process.ChildLauncher;
import dev.locallambdas.process.ChildProcess;
import dev.locallambdas.process.ExitStatus;
import dev.locallambdas.process.LaunchSpec;
import dev.locallambdas.transport.Endpoint;
import dev.locallambdas.transport.EndpointContext;
import dev.locallambdas.transport.Transport;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;

/**
 * Starts instances as real processes: prepares the endpoint (so the child can be told its address),
 * spawns the process through the {@link ChildLauncher}, and waits for the child's readiness signal
 * — on a virtual thread per start, because all of it is slow by nature.
 */
final class ProcessStarter implements Starter {
  private static final Logger LOG = Logger.getLogger("dev.locallambdas.function");

  private final FunctionSpec spec;
  private final Transport transport;
  private final ChildLauncher launcher;
  private final Path runDirectory;
  private final EventLoops loops;
  private final ForkTemplate template;

  ProcessStarter(
      FunctionSpec spec,
      Transport transport,
      ChildLauncher launcher,
      Path runDirectory,
      EventLoops loops,
      ForkTemplate template) {
    this.spec = spec;
    this.transport = transport;
    this.launcher = launcher;
    this.runDirectory = runDirectory;
    this.loops = loops;
    this.template = template;
  }

  @Override
  public void start(FunctionPool pool, Instance in) {
    Thread.ofVirtual().name("start-" + in.label).start(() -> run(pool, in));
  }

  private void run(FunctionPool pool, Instance in) {
    Endpoint endpoint = null;
    ChildProcess process = null;
    try {
      endpoint =
          transport.prepare(new EndpointContext(spec, in.number, runDirectory, loops, in.loop));
      // From the template when it can (it has the function's own environment already); otherwise,
      // and whenever it fails, the plain way.
      process = template != null ? template.fork(in.label, endpoint.environment()) : null;
      if (process != null) {
        in.forked = true;
      } else {
        Map<String, String> env = new LinkedHashMap<>(spec.env());
        env.putAll(endpoint.environment());
        List<String> command = new ArrayList<>();
        command.add(spec.executable());
        command.addAll(spec.args());
        Path workDir = spec.workingDir() != null ? spec.workingDir() : Path.of("").toAbsolutePath();
        process = launcher.start(new LaunchSpec(in.label, command, workDir, env, spec.stopGrace()));
      }
      if (!pool.spawned(in, endpoint, process)) {
        throw new IllegalStateException("start abandoned"); // timed out or shut down meanwhile
      }
      ChildProcess p = process;
      process.onOutput(endpoint::output);
      process.onExit().thenAccept(status -> pool.exited(in, status));
      LOG.fine(() -> in.label + ": started pid " + p.pid() + ", waiting for it to be ready");
      endpoint.awaitReady(spec.startupTimeout(), process.handle());
      pool.ready(in);
    } catch (Exception e) {
      if (e instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
      if (process != null) {
        process.kill();
        ExitStatus status = awaitExit(process);
        if (status != null && in.exitStatus == null) {
          in.exitStatus = status;
        }
      }
      if (endpoint != null) {
        endpoint.close();
      }
      pool.startFailed(in, e.getMessage() != null ? e.getMessage() : e.toString());
    }
  }

  private static ExitStatus awaitExit(ChildProcess process) {
    try {
      return process.onExit().get(2, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    } catch (Exception e) {
      return null;
    }
  }

  @Override
  public void stop(FunctionPool pool, Instance in, boolean hung) {
    Endpoint endpoint = in.endpoint;
    ChildProcess process = in.process;
    if (hung && process != null) {
      process.stop(); // SIGTERM now, SIGKILL after the grace; then cut what is still in it
    }
    if (endpoint != null) {
      endpoint.close(); // SDK children exit on end of file
    }
    if (!hung && process != null) {
      process.stop();
    }
  }

  @Override
  public void kill(Instance in) {
    ChildProcess process = in.process;
    if (process != null) {
      process.kill();
    }
    Endpoint endpoint = in.endpoint;
    if (endpoint != null) {
      endpoint.close();
    }
  }
}
