package dev.locallambdas.transport;

import dev.locallambdas.loops.EventLoops;
import dev.locallambdas.manifest.FunctionSpec;
import io.netty.channel.EventLoop;
import java.nio.file.Path;

/**
 * What a transport needs to prepare one instance's endpoint: the function, the instance's number
 * (unique per function for the gateway's lifetime), the gateway's private run directory (mode 0700)
 * where socket files go, the event loops, and the loop this instance should live on (the loop of
 * the request that asked for it, so that request and connection share a thread).
 */
public record EndpointContext(
    FunctionSpec function, int instanceNumber, Path runDirectory, EventLoops loops, EventLoop loop) {
  /** A context without event loops, for endpoints that do not use them. */
  public EndpointContext(FunctionSpec function, int instanceNumber, Path runDirectory) {
    this(function, instanceNumber, runDirectory, null, null);
  }

  /** "function#3", for logs and socket file names. */
  public String label() {
    return function.id() + "#" + instanceNumber;
  }
}
