import dev.locallambdas.sdk.LocalLambdas;
import dev.locallambdas.sdk.Response;
import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A pipe test child (Java SDK, run from source: java -cp sdk-java/target/classes Barrier.java)
 * that proves requests overlap inside one instance.
 *
 * <p>Each request waits until BARRIER_PARTIES requests (default 4) are inside the handler at
 * once, then all of them answer "together". If the barrier is not reached within
 * BARRIER_TIMEOUT_MS (default 20000) the waiting request answers "alone", and so does every later
 * one (the barrier stays broken): a gateway that serialises requests gets "alone" instead of
 * hanging. The answer is "together PID" or "alone PID".
 */
public final class Barrier {
  private Barrier() {}

  public static void main(String[] args) {
    int parties = Integer.parseInt(env("BARRIER_PARTIES", "4"));
    long timeoutMs = Long.parseLong(env("BARRIER_TIMEOUT_MS", "20000"));
    CyclicBarrier barrier = new CyclicBarrier(parties);
    long pid = ProcessHandle.current().pid();
    LocalLambdas.serve(
        request -> {
          String word;
          try {
            barrier.await(timeoutMs, TimeUnit.MILLISECONDS);
            word = "together";
          } catch (TimeoutException | BrokenBarrierException e) {
            word = "alone";
          }
          return Response.ok(word + " " + pid);
        });
  }

  private static String env(String name, String fallback) {
    String value = System.getenv(name);
    return value == null ? fallback : value;
  }
}
