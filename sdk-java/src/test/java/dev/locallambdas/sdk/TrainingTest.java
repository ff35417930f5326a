package dev.locallambdas.sdk;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/** The training run for the JDK's AOT cache: real requests through the SDK and the handler. */
class TrainingTest {
  @Test
  void servesTheRequestedNumberOfRequestsThroughTheHandlerThenEnds() throws Exception {
    List<String> seen = new CopyOnWriteArrayList<>();
    int status =
        Training.run(
            request -> {
              seen.add(
                  request.method() + " " + request.target() + " " + request.bodyBytes().length);
              return Response.ok("trained");
            },
            4);
    assertThat(status).isZero();
    assertThat(seen)
        .containsExactly(
            "GET /training/1?n=1 0",
            "POST /training/2?n=2 23",
            "GET /training/3?n=3 0",
            "POST /training/4?n=4 23");
  }

  @Test
  void aHandlerThatFailsDoesNotStopTheTraining() throws Exception {
    List<String> seen = new CopyOnWriteArrayList<>();
    int status =
        Training.run(
            request -> {
              seen.add(request.path());
              throw new IllegalStateException("not for training requests");
            },
            3);
    assertThat(status).isZero();
    assertThat(seen).hasSize(3);
  }
}
