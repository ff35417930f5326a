package dev.locallambdas.process;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class ExitStatusTest {
  @Test
  void describesPlainExit() {
    ExitStatus status = ExitStatus.of(3);
    assertThat(status.bySignal()).isFalse();
    assertThat(status.describe()).isEqualTo("exited with status 3");
  }

  @Test
  void readsValuesAbove128AsSignalsAndSaysItCouldBeAnExit() {
    ExitStatus killed = ExitStatus.of(137);
    assertThat(killed.signal()).isEqualTo(9);
    assertThat(killed.describe())
        .isEqualTo("killed by signal 9 (SIGKILL) or exited with status 137");
    assertThat(ExitStatus.of(143).describe()).startsWith("killed by signal 15 (SIGTERM)");
    assertThat(ExitStatus.of(139).describe()).startsWith("killed by signal 11 (SIGSEGV)");
    assertThat(ExitStatus.of(129).describe()).startsWith("killed by signal 1 (SIGHUP)");
    assertThat(ExitStatus.of(159).describe()).startsWith("killed by signal 31 (SIGSYS)");
  }

  @Test
  void valuesOutsideStandardSignalsAreExits() {
    assertThat(ExitStatus.of(128).describe()).isEqualTo("exited with status 128");
    assertThat(ExitStatus.of(160).describe()).isEqualTo("exited with status 160");
    assertThat(ExitStatus.of(0).describe()).isEqualTo("exited with status 0");
  }

  @Test
  void rejectsInconsistentValues() {
    assertThatThrownBy(() -> new ExitStatus(256, 0)).hasMessageContaining("256");
    assertThatThrownBy(() -> new ExitStatus(137, 15)).hasMessageContaining("signal 15");
    assertThatThrownBy(() -> new ExitStatus(-1, 0)).hasMessageContaining("-1");
  }
}
