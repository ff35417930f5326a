package dev.locallambdas.transport.pipe;

import dev.locallambdas.exchange.Headers;
import dev.locallambdas.exchange.Request;
import dev.locallambdas.loops.EventLoops;
import dev.locallambdas.manifest.FunctionSpec;
import dev.locallambdas.transport.EndpointContext;
import io.netty.channel.EventLoop;
import java.nio.file.Path;

/** Contexts and requests shared by the pipe tests. */
final class PipeTestSupport {
  private PipeTestSupport() {}

  /** An endpoint context whose instance lives on {@code loop}. */
  static EndpointContext context(
      Path runDirectory, int concurrency, EventLoops loops, EventLoop loop) {
    FunctionSpec spec =
        FunctionSpec.builder("echo")
            .executable("echo-child")
            .route("/echo/*")
            .concurrency(concurrency)
            .build();
    return new EndpointContext(spec, 3, runDirectory, loops, loop);
  }

  static Request get(String path) {
    return new Request(
        "GET",
        path,
        null,
        Headers.builder().add("host", "localhost").add("x-forwarded-for", "10.0.0.1").build(),
        0,
        "10.0.0.1");
  }

  /** A request whose body of {@code length} bytes (-1: chunked) follows through Call.body. */
  static Request post(String path, long length) {
    return new Request("POST", path, null, Headers.empty(), length, "10.0.0.1");
  }
}
