package dev.locallambdas.it;

import dev.locallambdas.manifest.FunctionSpec;
import dev.locallambdas.manifest.Manifest;
import java.nio.file.Path;
import java.util.List;

/** Paths into the repository and ready-made function specs for integration tests. */
final class TestManifests {
  private TestManifests() {}

  static Path repo() {
    String p = System.getProperty("locallambdas.repo");
    Path dir = p != null ? Path.of(p) : Path.of("..").toAbsolutePath().normalize();
    if (!dir.resolve("sdk").toFile().isDirectory()) {
      dir = Path.of("").toAbsolutePath().getParent();
    }
    return dir;
  }

  static Path child(String name) {
    return repo().resolve("gateway/src/test/resources/children").resolve(name);
  }

  /** A pipe function running the scriptable cue child under the Python SDK, routed at /{id}/*. */
  static FunctionSpec.Builder cue(String id) {
    return FunctionSpec.builder(id)
        .executable("python3")
        .arg(child("cue.py").toString())
        .route("/" + id + "/*")
        .env("SDK_PYTHON", repo().resolve("sdk/python").toString())
        .env("PYTHONUNBUFFERED", "1")
        .workingDir(repo());
  }

  /** A pipe function that breaks the protocol on cue (raw.py), routed at /{id}/*. */
  static FunctionSpec.Builder raw(String id) {
    return FunctionSpec.builder(id)
        .executable("python3")
        .arg(child("raw.py").toString())
        .route("/" + id + "/*")
        .workingDir(repo());
  }

  static Manifest manifest(FunctionSpec... functions) {
    return new Manifest(repo().resolve("test-manifest.xml"), false, List.of(functions));
  }
}
