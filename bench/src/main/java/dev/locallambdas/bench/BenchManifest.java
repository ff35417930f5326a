package dev.locallambdas.bench;

import dev.locallambdas.manifest.FunctionSpec;
import dev.locallambdas.manifest.Manifest;
import dev.locallambdas.manifest.ManifestException;
import dev.locallambdas.manifest.ManifestProblem;
import dev.locallambdas.manifest.ManifestReader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Loads the benchmark manifest (bench/manifest.xml by default). Two adjustments, both reported: the
 * executable {@code java} becomes the JDK running the benchmark, and when this build's manifest
 * reader does not know the {@code <cache>} element the manifest is read without it (case 1 then
 * reports the cache as unavailable instead of measuring something else).
 */
record BenchManifest(Manifest manifest, List<String> notes) {

  static BenchManifest load(Path file) throws ManifestException, IOException {
    List<String> notes = new ArrayList<>();
    Manifest m;
    try {
      m = ManifestReader.read(file);
    } catch (ManifestException e) {
      boolean cacheOnly = !e.problems().isEmpty();
      for (ManifestProblem p : e.problems()) {
        cacheOnly &=
            p.element() != null && p.element().contains("cache") || p.message().contains("cache");
      }
      if (!cacheOnly) {
        throw e;
      }
      notes.add("this build's manifest reader does not know <cache>: read the manifest without it");
      m = readWithoutCache(file);
    }
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    List<FunctionSpec> specs = new ArrayList<>();
    for (FunctionSpec s : m.functions()) {
      specs.add(s.executable().equals("java") ? s.toBuilder().executable(java).build() : s);
    }
    notes.add("executable 'java' runs as " + java);
    return new BenchManifest(
        new Manifest(m.source(), m.originalFormat(), specs), List.copyOf(notes));
  }

  /** The same file minus its {@code <cache>...</cache>} elements, read from beside the original. */
  private static Manifest readWithoutCache(Path file) throws IOException, ManifestException {
    String xml = Files.readString(file).replaceAll("(?s)\\s*<cache>.*?</cache>", "");
    Path dir = file.toAbsolutePath().getParent();
    Path copy = Files.createTempFile(dir, ".bench-manifest-", ".xml");
    try {
      Files.writeString(copy, xml);
      Manifest m = ManifestReader.read(copy);
      return new Manifest(file.toAbsolutePath().normalize(), m.originalFormat(), m.functions());
    } finally {
      Files.deleteIfExists(copy);
    }
  }
}
