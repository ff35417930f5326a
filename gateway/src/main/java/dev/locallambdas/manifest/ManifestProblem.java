package dev.locallambdas.manifest;

import java.nio.file.Path;

/**
 * One thing wrong with a manifest, or worth a warning. {@code line} is 1-based, or 0 when the
 * problem has no single line (a missing file). {@code element} names where the problem is, like
 * {@code <max_instances> of 'hello'}, and may be null.
 */
public record ManifestProblem(
    Path file, int line, String element, String message, Severity severity) {

  /** An error makes the manifest unusable; a warning does not. */
  public enum Severity {
    ERROR,
    WARNING
  }

  /** An error. */
  public ManifestProblem(Path file, int line, String element, String message) {
    this(file, line, element, message, Severity.ERROR);
  }

  public boolean isError() {
    return severity == Severity.ERROR;
  }

  /**
   * Reads like {@code manifest.xml:12: <max_instances> of 'hello': 0 is not allowed: ...}, or
   * {@code manifest.xml:3: warning: <description>: ...}: the form compilers use, which editors and
   * CI annotate.
   */
  @Override
  public String toString() {
    StringBuilder s = new StringBuilder().append(file);
    if (line > 0) {
      s.append(':').append(line);
    }
    s.append(": ");
    if (severity == Severity.WARNING) {
      s.append("warning: ");
    }
    if (element != null) {
      s.append(element).append(": ");
    }
    return s.append(message).toString();
  }
}
