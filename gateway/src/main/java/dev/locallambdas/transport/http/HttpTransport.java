package dev.locallambdas.transport.http;

import dev.locallambdas.clock.Clock;
import dev.locallambdas.clock.Scheduler;
import dev.locallambdas.loops.EventLoops;
import dev.locallambdas.manifest.FunctionSpec;
import dev.locallambdas.manifest.HttpListen;
import dev.locallambdas.manifest.Protocol;
import dev.locallambdas.transport.Endpoint;
import dev.locallambdas.transport.EndpointContext;
import dev.locallambdas.transport.Transport;
import io.netty.channel.EventLoop;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;

/**
 * Protocol "http" on the event loops: the child runs its own HTTP/1.1 server and the gateway is a
 * reverse proxy to it, with Netty's HTTP codec on the loop of each request. The child listens on a
 * loopback port (HTTP_ADDRESS=127.0.0.1:PORT and PORT) or on a Unix socket in the run directory
 * (HTTP_SOCKET=PATH and HTTP_ADDRESS=unix:PATH). See docs/decisions/0009.
 */
public final class HttpTransport implements Transport {
  /** sun_path holds 108 bytes including the terminating NUL. */
  private final Clock clock;

  private final Function<? super EventLoop, Scheduler> timers;

  /** Real time; idle connections are evicted by timers on their own loop. */
  public HttpTransport() {
    this(Clock.system(), Scheduler::on);
  }

  /**
   * @param clock the time for start-up deadlines and idle eviction
   * @param timers the scheduler for the idle timers of a loop's pool (its tasks may run on any
   *     thread: the pool moves to its loop itself)
   */
  public HttpTransport(Clock clock, Function<? super EventLoop, Scheduler> timers) {
    this.clock = clock;
    this.timers = timers;
  }

  @Override
  public Endpoint prepare(EndpointContext context) throws IOException {
    FunctionSpec f = context.function();
    if (f.protocol() != Protocol.HTTP) {
      throw new IllegalArgumentException(
          "HttpTransport serves protocol http, not "
              + f.protocol().manifestName()
              + " of "
              + f.id());
    }
    EventLoops loops = context.loops();
    if (loops == null) {
      throw new IllegalArgumentException("the http transport needs the event loops");
    }
    Map<String, String> env = new LinkedHashMap<>();
    if (f.httpListen() == HttpListen.UNIX) {
      Path socket = context.socketFile(f.id() + "-" + context.instanceNumber() + ".http.sock");
      env.put("HTTP_SOCKET", socket.toString());
      env.put("HTTP_ADDRESS", "unix:" + socket);
      return new HttpEndpoint(
          context,
          new HttpEndpoint.Address(
              UnixDomainSocketAddress.of(socket),
              loops.domainAddress(socket),
              socket.toString(),
              -1,
              socket),
          env,
          clock,
          timers);
    }
    int port = HttpPorts.allocateLoopback();
    env.put("HTTP_ADDRESS", "127.0.0.1:" + port);
    env.put("PORT", Integer.toString(port));
    InetSocketAddress address = new InetSocketAddress(InetAddress.getLoopbackAddress(), port);
    return new HttpEndpoint(
        context,
        new HttpEndpoint.Address(address, address, "127.0.0.1:" + port, port, null),
        env,
        clock,
        timers);
  }
}
