package dev.locallambdas.transport.inprocess;

import dev.locallambdas.exchange.BodySource;
import dev.locallambdas.exchange.Request;
import dev.locallambdas.exchange.ResponseSink;
import dev.locallambdas.manifest.FunctionSpec;
import dev.locallambdas.transport.BlockingEndpoint;
import dev.locallambdas.transport.EndpointContext;
import dev.locallambdas.transport.TransportException;
import dev.locallambdas.transport.TransportException.Kind;
import dev.locallambdas.transport.lambda.ApiGateway;
import dev.locallambdas.transport.lambda.HttpAnswer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.reflect.InvocationTargetException;
import java.net.MalformedURLException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * An in-process function's endpoint: its handler class, loaded from its jar or class directory in a
 * class loader of its own (parent: the platform loader, so it sees none of the gateway's classes),
 * instantiated once per instance and called on each call's virtual thread. Closing the endpoint
 * drops the class loader, so a new instance loads the code afresh.
 */
final class HandlerEndpoint extends BlockingEndpoint {
  private final EndpointContext context;
  private volatile URLClassLoader loader;
  private volatile Handlers.Loaded invoker;

  HandlerEndpoint(EndpointContext context) {
    this.context = context;
  }

  @Override
  public Map<String, String> environment() {
    return Map.of();
  }

  /** Loads and instantiates the handler; a constructor that throws fails the start. */
  @Override
  public void awaitReady(Duration timeout, ProcessHandle process) throws IOException {
    FunctionSpec spec = context.function();
    Path dir = spec.workingDir() != null ? spec.workingDir() : Path.of("").toAbsolutePath();
    List<URL> urls = new ArrayList<>();
    List<String> entries = new ArrayList<>();
    entries.add(spec.executable());
    entries.addAll(spec.args());
    for (String entry : entries) {
      Path p = dir.resolve(entry).normalize();
      if (!Files.exists(p)) {
        throw notReady(
            "its code "
                + p
                + " does not exist: <executable> (and each <arg>) of an in-process"
                + " function is a jar or a class directory");
      }
      try {
        urls.add(p.toUri().toURL());
      } catch (MalformedURLException e) {
        throw notReady("its code " + p + " is not a valid location: " + e.getMessage());
      }
    }
    URLClassLoader l =
        new URLClassLoader(
            "function-" + context.label(),
            urls.toArray(URL[]::new),
            ClassLoader.getPlatformClassLoader());
    loader = l;
    try {
      invoker = Handlers.load(l, spec.handler());
    } catch (Handlers.LoadException e) {
      l.close();
      throw notReady(e.getMessage());
    }
  }

  private TransportException notReady(String message) {
    return new TransportException(Kind.NOT_READY, context.label() + ": " + message);
  }

  @Override
  protected void exchange(Request request, BodySource body, ResponseSink sink) throws IOException {
    Handlers.Loaded h = invoker;
    if (h == null) {
      throw new TransportException(Kind.NOT_DELIVERED, context.label() + " is not loaded");
    }
    ByteArrayOutputStream in = new ByteArrayOutputStream();
    ByteBuffer chunk;
    while ((chunk = body.next()) != null) {
      in.write(chunk.array(), chunk.arrayOffset() + chunk.position(), chunk.remaining());
    }
    FunctionSpec spec = context.function();
    String id = UUID.randomUUID().toString();
    long deadline = System.currentTimeMillis() + spec.requestTimeout().toMillis();
    Thread current = Thread.currentThread();
    ClassLoader previous = current.getContextClassLoader();
    current.setContextClassLoader(loader);
    HttpAnswer answer;
    try {
      if (h.http() != null) {
        answer = h.http().handle(request, in.toByteArray(), spec.requestTimeout().toMillis());
      } else {
        byte[] event = ApiGateway.event(spec, request, in.toByteArray(), id);
        byte[] result = h.events().invoke(event, new Handlers.Invocation(spec, id, deadline));
        answer = ApiGateway.response(spec, result);
      }
    } catch (InvocationTargetException e) {
      Throwable cause = e.getCause() != null ? e.getCause() : e;
      throw new TransportException(
          Kind.HANDLER_ERROR, cause.getClass().getName() + ": " + cause.getMessage(), cause);
    } finally {
      current.setContextClassLoader(previous);
    }
    sink.head(answer.status(), answer.headers(), answer.body().length);
    sink.body(ByteBuffer.wrap(answer.body()));
    sink.end();
  }

  @Override
  public void close() {
    invoker = null;
    URLClassLoader l = loader;
    loader = null;
    if (l != null) {
      try {
        l.close();
      } catch (IOException e) {
        // the jar is gone: nothing left to release
      }
    }
  }
}
