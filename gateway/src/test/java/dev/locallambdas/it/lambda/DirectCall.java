package dev.locallambdas.it.lambda;

import com.amazonaws.services.lambda.runtime.Context;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.Proxy;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.LongAdder;

/**
 * The floor of bench/lambda/run.sh: {@link BenchHandler} called directly, no gateway, no socket,
 * with a small HTTP API event, on 1, 8 and 64 threads for a fixed time each. Prints "c1_us c8_per_s
 * c64_per_s".
 *
 * <pre>java -cp TEST_CLASSPATH dev.locallambdas.it.lambda.DirectCall SECONDS</pre>
 */
public final class DirectCall {
  private static final byte[] EVENT =
      "{\"version\":\"2.0\",\"rawPath\":\"/x\",\"requestContext\":{\"http\":{\"method\":\"GET\"}}}"
          .getBytes(StandardCharsets.UTF_8);

  private DirectCall() {}

  public static void main(String[] args) throws Exception {
    long seconds = Long.parseLong(args[0]);
    BenchHandler handler = new BenchHandler();
    Context context =
        (Context)
            Proxy.newProxyInstance(
                Context.class.getClassLoader(),
                new Class<?>[] {Context.class},
                (p, m, a) -> m.getReturnType() == int.class ? 0 : null);
    run(handler, context, 8, seconds); // warm-up
    double c1 = run(handler, context, 1, seconds);
    double c8 = run(handler, context, 8, seconds);
    double c64 = run(handler, context, 64, seconds);
    System.out.printf("%.2f %.0f %.0f%n", 1_000_000 / c1, c8, c64);
  }

  /** Calls per second on {@code threads} threads. */
  private static double run(BenchHandler handler, Context context, int threads, long seconds)
      throws InterruptedException {
    LongAdder calls = new LongAdder();
    long start = System.nanoTime();
    long end = start + seconds * 1_000_000_000L;
    Thread[] all = new Thread[threads];
    for (int i = 0; i < threads; i++) {
      all[i] =
          Thread.ofPlatform()
              .start(
                  () -> {
                    ByteArrayOutputStream out = new ByteArrayOutputStream(256);
                    while (System.nanoTime() < end) {
                      out.reset();
                      try {
                        handler.handleRequest(new ByteArrayInputStream(EVENT), out, context);
                      } catch (IOException e) {
                        throw new UncheckedIOException(e);
                      }
                      calls.increment();
                    }
                  });
    }
    for (Thread t : all) {
      t.join();
    }
    return calls.sum() / ((System.nanoTime() - start) / 1e9);
  }
}
