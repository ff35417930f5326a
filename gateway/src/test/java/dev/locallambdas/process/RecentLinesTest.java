package dev.locallambdas.process;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class RecentLinesTest {
  @Test
  void keepsTheLastLinesCutToLength() {
    RecentLines recent = new RecentLines(3, 5);
    for (int i = 1; i <= 5; i++) {
      recent.add("line" + i);
    }
    recent.add("a very long line");
    assertThat(recent.snapshot()).containsExactly("line4", "line5", "a ver…");
  }
}
