package dev.locallambdas.manifest;

import java.nio.file.Path;
import java.util.List;

/**
 * A validated manifest: every function in it is complete and consistent, ids and routes are unique.
 * {@code originalFormat} is true for manifests written for the original local_lambdas (no {@code
 * version} attribute), whose children speak the legacy JSON protocols.
 */
public record Manifest(Path source, boolean originalFormat, List<FunctionSpec> functions) {
  public Manifest {
    functions = List.copyOf(functions);
  }

  /** The function with this id, or null. */
  public FunctionSpec function(String id) {
    for (FunctionSpec f : functions) {
      if (f.id().equals(id)) {
        return f;
      }
    }
    return null;
  }
}
