package dev.locallambdas.manifest;

import java.util.List;
import java.util.stream.Collectors;

/** A manifest that cannot be used, with every problem found in it. */
public final class ManifestException extends Exception {
  private final List<ManifestProblem> problems;

  public ManifestException(List<ManifestProblem> problems) {
    super(problems.stream().map(ManifestProblem::toString).collect(Collectors.joining("\n")));
    if (problems.isEmpty()) {
      throw new IllegalArgumentException("a ManifestException needs at least one problem");
    }
    this.problems = List.copyOf(problems);
  }

  /** The problems in file order. */
  public List<ManifestProblem> problems() {
    return problems;
  }
}
