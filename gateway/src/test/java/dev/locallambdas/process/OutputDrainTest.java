package dev.locallambdas.process;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class OutputDrainTest {
  private static List<String> drain(byte[] bytes, int max) throws IOException {
    List<String> lines = new ArrayList<>();
    OutputDrain.drain(new ByteArrayInputStream(bytes), max, lines::add);
    return lines;
  }

  private static List<String> drain(String text, int max) throws IOException {
    return drain(text.getBytes(StandardCharsets.UTF_8), max);
  }

  @Test
  void splitsOnNewlinesAndDropsCarriageReturns() throws IOException {
    assertThat(drain("one\ntwo\r\n\nthree", 100)).containsExactly("one", "two", "", "three");
  }

  @Test
  void handsOnOverlongLinesInPieces() throws IOException {
    assertThat(drain("abcdefghij\nxy\n", 4)).containsExactly("abcd", "efgh", "ij", "xy");
  }

  @Test
  void boundsLinesAtEightKibibytes() throws IOException {
    String longLine = "x".repeat(3 * OutputDrain.MAX_LINE_BYTES + 5);
    List<String> lines = drain(longLine + "\n", OutputDrain.MAX_LINE_BYTES);
    assertThat(lines).hasSize(4);
    assertThat(lines).allSatisfy(l -> assertThat(l.length()).isLessThanOrEqualTo(8192));
    assertThat(String.join("", lines)).isEqualTo(longLine);
  }

  @Test
  void doesNotCutThroughMultibyteCharacters() throws IOException {
    // "aé" is 3 bytes; with a 2-byte bound the é must not be split in half.
    assertThat(drain("aéb\n", 2)).containsExactly("a", "é", "b");
    assertThat(drain("€€\n", 4)).containsExactly("€", "€");
  }
}
