package dev.locallambdas.manifest;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/** Collects the problems of one manifest so that a single pass reports all of them. */
final class Problems {
  private final Path file;
  private final List<ManifestProblem> list = new ArrayList<>();

  Problems(Path file) {
    this.file = file;
  }

  void add(int line, String element, String message) {
    list.add(new ManifestProblem(file, line, element, message));
  }

  int count() {
    return list.size();
  }

  boolean isEmpty() {
    return list.isEmpty();
  }

  /** The problems sorted by line; problems on the same line keep the order they were found in. */
  List<ManifestProblem> sorted() {
    List<ManifestProblem> copy = new ArrayList<>(list);
    copy.sort(Comparator.comparingInt(ManifestProblem::line));
    return copy;
  }
}
