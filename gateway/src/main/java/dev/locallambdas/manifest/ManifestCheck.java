package dev.locallambdas.manifest;

import java.util.List;

/**
 * Everything {@link ManifestReader#check} found in a manifest: its errors and warnings (including
 * programs that cannot be found), in file order, and the manifest itself when there is no error.
 * The {@code validate} and {@code serve} commands both report from this, so what one accepts the
 * other serves.
 */
public record ManifestCheck(Manifest manifest, List<ManifestProblem> problems) {
  public ManifestCheck {
    problems = List.copyOf(problems);
    if (manifest != null && problems.stream().anyMatch(ManifestProblem::isError)) {
      throw new IllegalArgumentException("a manifest with errors cannot be used");
    }
  }

  public List<ManifestProblem> errors() {
    return problems.stream().filter(ManifestProblem::isError).toList();
  }

  public List<ManifestProblem> warnings() {
    return problems.stream().filter(p -> !p.isError()).toList();
  }

  /** True when the manifest can be served (it may still have warnings). */
  public boolean valid() {
    return manifest != null;
  }
}
