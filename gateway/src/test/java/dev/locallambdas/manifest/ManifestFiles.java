package dev.locallambdas.manifest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/** Where the test manifests and the schema are, and how to read a manifest written inline. */
final class ManifestFiles {
  private ManifestFiles() {}

  static Path resource(String name) {
    URL url = ManifestFiles.class.getResource("/manifests/" + name);
    assertThat(url).as("test resource manifests/%s", name).isNotNull();
    try {
      return Path.of(url.toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Every manifest under manifests/valid. */
  static List<Path> validManifests() {
    try (Stream<Path> files = Files.list(resource("valid"))) {
      return files.filter(p -> p.toString().endsWith(".xml")).sorted().toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static Path schema() {
    String repo = System.getProperty("locallambdas.repo");
    Path root = repo != null ? Path.of(repo) : Path.of("").toAbsolutePath().getParent();
    return root.resolve("docs/manifest.xsd");
  }

  static Path write(Path dir, String xml) {
    try {
      return Files.writeString(dir.resolve("manifest.xml"), xml);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Reads a manifest that must be rejected and returns the exception. */
  static ManifestException rejected(Path dir, String xml) {
    Path file = write(dir, xml);
    ManifestException e =
        catchThrowableOfType(ManifestException.class, () -> ManifestReader.read(file));
    assertThat(e).as("manifest should have been rejected:%n%s", xml).isNotNull();
    return e;
  }
}
