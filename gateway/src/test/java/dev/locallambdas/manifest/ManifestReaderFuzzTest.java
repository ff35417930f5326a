package dev.locallambdas.manifest;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.AfterAll;

/**
 * The manifest reader under arbitrary file contents: a manifest is read, or refused with a {@link
 * ManifestException} that lists at least one problem; no other exception escapes, from {@link
 * ManifestReader#read} or from {@link ManifestReader#check}, whose problems are one line each.
 * Inputs are cut to 16 KiB so a run cannot be slowed by sheer size (the reader refuses DTDs, so no
 * entity can grow a small file). Runs the checked-in corpus in CI; {@code JAZZER_FUZZ=1} fuzzes.
 */
class ManifestReaderFuzzTest {
  private static final int MAX_INPUT = 16 * 1024;
  private static Path dir;

  private static synchronized Path file() {
    try {
      if (dir == null) {
        dir = Files.createTempDirectory("manifest-fuzz");
      }
      return dir.resolve("manifest.xml");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @AfterAll
  static synchronized void removeDirectory() throws IOException {
    if (dir != null) {
      Files.deleteIfExists(dir.resolve("manifest.xml"));
      Files.deleteIfExists(dir);
      dir = null;
    }
  }

  @FuzzTest(maxDuration = "30s")
  void readsOrRefusesWithManifestException(byte[] input) throws IOException {
    Path file = file();
    Files.write(file, input.length > MAX_INPUT ? Arrays.copyOf(input, MAX_INPUT) : input);
    boolean read;
    try {
      Manifest m = ManifestReader.read(file, file.getParent());
      assertThat(m.functions()).allSatisfy(f -> assertThat(f.id()).isNotEmpty());
      read = true;
    } catch (ManifestException e) {
      assertThat(e.problems()).isNotEmpty();
      assertThat(e.getMessage()).isNotBlank();
      read = false;
    }
    // The check behind validate and serve never throws, and accepts only what read accepts.
    ManifestCheck c = ManifestReader.check(file, file.getParent(), "");
    assertThat(c.problems()).allSatisfy(p -> assertThat(p.toString()).doesNotContain("\n"));
    if (c.valid()) {
      assertThat(read).isTrue();
    }
  }
}
