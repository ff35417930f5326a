package dev.locallambdas.transport.inprocess;

import dev.locallambdas.exchange.Headers;
import dev.locallambdas.exchange.HttpSyntax;
import dev.locallambdas.exchange.Request;
import dev.locallambdas.transport.lambda.HttpAnswer;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * This project's Java SDK {@code dev.locallambdas.sdk.Handler}, in-process: the handler answers
 * HTTP requests, not events, so it gets the request itself (method, target, headers, body, the
 * deadline) as an SDK {@code Request} and its {@code Response} is the answer, a streamed one
 * gathered. Driven by reflection through the function's class loader, which must hold the SDK
 * (local-lambdas-sdk.jar), as the gateway does not depend on it; the SDK's request constructor and
 * response accessors are package-private, so they are opened here (the function's classes are in an
 * unnamed module).
 */
final class SdkHandler {
  static final String HANDLER = "dev.locallambdas.sdk.Handler";

  private final Object instance;
  private final Method handle;
  private final Constructor<?> request;
  private final Method status;
  private final Method headers;
  private final Method body;
  private final Method writer;
  private final Method writeTo;

  private SdkHandler(Object instance, Class<?> handler, ClassLoader loader)
      throws ReflectiveOperationException {
    this.instance = instance;
    Class<?> req = Class.forName("dev.locallambdas.sdk.Request", false, loader);
    Class<?> res = Class.forName("dev.locallambdas.sdk.Response", false, loader);
    Class<?> bodyWriter = Class.forName("dev.locallambdas.sdk.Response$BodyWriter", false, loader);
    this.handle = handler.getMethod("handle", req);
    this.request =
        req.getDeclaredConstructor(
            String.class, String.class, List.class, InputStream.class, long.class);
    this.status = res.getMethod("status");
    this.headers = res.getMethod("headers");
    this.body = res.getDeclaredMethod("body");
    this.writer = res.getDeclaredMethod("writer");
    this.writeTo = bodyWriter.getMethod("writeTo", OutputStream.class);
    request.setAccessible(true);
    body.setAccessible(true);
    writer.setAccessible(true);
  }

  /** The SDK handler {@code instance} of {@code type}, or null when it is not one. */
  static SdkHandler of(Object instance, Class<?> type, ClassLoader loader)
      throws Handlers.LoadException {
    Class<?> handler;
    try {
      handler = Class.forName(HANDLER, false, loader);
    } catch (ClassNotFoundException | LinkageError e) {
      return null; // the code does not hold the SDK: not an SDK handler
    }
    if (!handler.isAssignableFrom(type)) {
      return null;
    }
    try {
      return new SdkHandler(instance, handler, loader);
    } catch (ReflectiveOperationException | RuntimeException e) {
      throw new Handlers.LoadException(
          "cannot drive "
              + type.getName()
              + " as a Java SDK Handler (an SDK of another version?): "
              + e);
    }
  }

  /** Answers {@code r} with {@code requestBody}; the handler's exception as its cause. */
  HttpAnswer handle(Request r, byte[] requestBody, long remainingMillis)
      throws InvocationTargetException {
    List<Map.Entry<String, String>> fields = new ArrayList<>(r.headers().size());
    for (int i = 0; i < r.headers().size(); i++) {
      fields.add(Map.entry(r.headers().name(i), r.headers().value(i)));
    }
    try {
      Object sdkRequest =
          request.newInstance(
              r.method(),
              r.target(),
              List.copyOf(fields),
              new ByteArrayInputStream(requestBody),
              Math.max(1, remainingMillis));
      Object response = handle.invoke(instance, sdkRequest);
      if (response == null) {
        throw new InvocationTargetException(
            new NullPointerException("the handler returned no Response"));
      }
      byte[] bytes = (byte[]) body.invoke(response);
      if (bytes == null) {
        Object w = writer.invoke(response);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        if (w != null) {
          writeTo.invoke(w, out);
        }
        bytes = out.toByteArray();
      }
      Headers.Builder h = Headers.builder();
      @SuppressWarnings("unchecked")
      List<Map.Entry<String, String>> answered =
          (List<Map.Entry<String, String>>) headers.invoke(response);
      for (Map.Entry<String, String> e : answered) {
        h.add(e.getKey(), e.getValue());
      }
      return new HttpAnswer(
          (Integer) status.invoke(response), HttpSyntax.endToEnd(h.build()), bytes);
    } catch (IllegalAccessException | InstantiationException e) {
      throw new InvocationTargetException(e);
    }
  }
}
