package dev.locallambdas.manifest;

import java.nio.file.Path;

/**
 * One thing wrong with a manifest. {@code line} is 1-based, or 0 when the problem has no single
 * line (a missing file, an executable that is not installed). {@code element} names where the
 * problem is, like {@code <max_instances> of 'hello'}, and may be null.
 */
public record ManifestProblem(Path file, int line, String element, String message) {

  /** Reads like {@code manifest.xml:12: <max_instances> of 'hello': 0 is not allowed: ...}. */
  @Override
  public String toString() {
    StringBuilder s = new StringBuilder().append(file);
    if (line > 0) {
      s.append(':').append(line);
    }
    s.append(": ");
    if (element != null) {
      s.append(element).append(": ");
    }
    return s.append(message).toString();
  }
}
