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

  /** An error: the manifest will not be used. */
  void add(int line, String element, String message) {
    list.add(
        new ManifestProblem(
            file, line, oneLine(element), oneLine(message), ManifestProblem.Severity.ERROR));
  }

  /** A warning: the manifest is used all the same. */
  void warn(int line, String element, String message) {
    list.add(
        new ManifestProblem(
            file, line, oneLine(element), oneLine(message), ManifestProblem.Severity.WARNING));
  }

  /**
   * A problem in another file the manifest refers to (an env file): reported as that file's line,
   * so editors jump to it.
   */
  void addIn(Path other, int line, String element, String message, boolean error) {
    list.add(
        new ManifestProblem(
            other,
            line,
            oneLine(element),
            oneLine(message),
            error ? ManifestProblem.Severity.ERROR : ManifestProblem.Severity.WARNING));
  }

  /** Errors so far (warnings do not count). */
  int count() {
    return (int) list.stream().filter(ManifestProblem::isError).count();
  }

  boolean isEmpty() {
    return count() == 0;
  }

  /** Every problem, errors and warnings, sorted by line; same-line ones keep the found order. */
  List<ManifestProblem> sorted() {
    List<ManifestProblem> copy = new ArrayList<>(list);
    copy.sort(Comparator.comparingInt(ManifestProblem::line));
    return copy;
  }

  /** The errors only, sorted as {@link #sorted}. */
  List<ManifestProblem> errors() {
    return sorted().stream().filter(ManifestProblem::isError).toList();
  }

  /**
   * One problem is one line of output, whatever a value or the XML parser put into a message:
   * control characters are escaped.
   */
  private static String oneLine(String s) {
    if (s == null || s.chars().noneMatch(c -> c < 0x20 || c == 0x7f)) {
      return s;
    }
    StringBuilder sb = new StringBuilder(s.length() + 8);
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c < 0x20 || c == 0x7f) {
        sb.append(String.format("\\x%02x", (int) c));
      } else {
        sb.append(c);
      }
    }
    return sb.toString();
  }
}
