package dev.locallambdas.reload;

import static org.assertj.core.api.Assertions.assertThat;

import dev.locallambdas.clock.ManualClock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class DebouncerTest {
  private final ManualClock clock = new ManualClock();
  private final List<String> fired = new ArrayList<>();
  private final Debouncer<String> debouncer =
      new Debouncer<>(
          clock,
          clock,
          TimeUnit.MILLISECONDS.toNanos(100),
          TimeUnit.SECONDS.toNanos(1),
          fired::add);

  @Test
  void aBurstOfChangesActsOnceAfterTheQuietPeriod() {
    debouncer.changed("fn");
    clock.advance(Duration.ofMillis(60));
    debouncer.changed("fn");
    clock.advance(Duration.ofMillis(60));
    debouncer.changed("fn");
    clock.advance(Duration.ofMillis(99));
    assertThat(fired).isEmpty();

    clock.advance(Duration.ofMillis(1));
    assertThat(fired).containsExactly("fn");
  }

  @Test
  void keysAreDebouncedSeparately() {
    debouncer.changed("a");
    clock.advance(Duration.ofMillis(50));
    debouncer.changed("b");
    clock.advance(Duration.ofMillis(50));
    assertThat(fired).containsExactly("a");
    clock.advance(Duration.ofMillis(50));
    assertThat(fired).containsExactly("a", "b");
  }

  @Test
  void aFileWrittenWithoutPauseStillTakesEffectAfterTheMaximumDelay() {
    for (int i = 0; i < 30; i++) {
      debouncer.changed("log");
      clock.advance(Duration.ofMillis(50));
    }
    assertThat(fired).as("at 1 s, 1.5 s of changes every 50 ms").containsExactly("log");
  }

  @Test
  void aChangeAfterTheActionStartsANewBurst() {
    debouncer.changed("fn");
    clock.advance(Duration.ofMillis(100));
    debouncer.changed("fn");
    clock.advance(Duration.ofMillis(100));
    assertThat(fired).containsExactly("fn", "fn");
  }

  @Test
  void closingDropsPendingActions() {
    debouncer.changed("fn");
    debouncer.close();
    clock.advance(Duration.ofSeconds(2));
    debouncer.changed("fn");
    clock.advance(Duration.ofSeconds(2));
    assertThat(fired).isEmpty();
  }
}
