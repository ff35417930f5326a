package dev.locallambdas.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The picocli bypass reads only what is certainly valid; everything else goes to picocli. */
class QuickServeTest {
  @Test
  void readsAFreePortAndAReadyFile() {
    Main.Serve s =
        QuickServe.parse(
            new String[] {"serve", "m.xml", "--bind", "127.0.0.1:0", "--ready-file=/tmp/r", "-v"});
    assertThat(s).isNotNull();
    assertThat(s.bind).isEqualTo("127.0.0.1:0");
    assertThat(s.readyFile).isEqualTo(Path.of("/tmp/r"));
    assertThat(s.log.debug).isTrue();
    assertThat(s.debugFunctions).isEmpty();
  }

  @Test
  void leavesDebugAndRepeatsAndMissingValuesToPicocli() {
    assertThat(QuickServe.parse(new String[] {"serve", "--debug", "hello"})).isNull();
    assertThat(QuickServe.parse(new String[] {"serve", "-d"})).isNull();
    assertThat(QuickServe.parse(new String[] {"serve", "--ready-file"})).isNull();
    assertThat(QuickServe.parse(new String[] {"serve", "--ready-file", "a", "--ready-file", "b"}))
        .isNull();
    assertThat(QuickServe.parse(new String[] {"serve", "--ready-file="})).isNull();
  }
}
