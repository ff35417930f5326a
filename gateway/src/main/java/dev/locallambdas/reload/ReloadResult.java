package dev.locallambdas.reload;

import dev.locallambdas.manifest.ManifestProblem;
import java.util.List;
import java.util.Map;

/**
 * What one reload did (the admin API's answer, docs/reload.md). {@code problems} is non-empty when
 * the new manifest has errors: then nothing was applied and the last good configuration stays in
 * effect. {@code failed} names the changed functions whose new instances could not start (with
 * why): their old instances keep serving under the old definition.
 */
public record ReloadResult(
    String source,
    List<String> added,
    List<String> changed,
    List<String> removed,
    List<String> unchanged,
    Map<String, String> failed,
    List<ManifestProblem> problems) {

  public ReloadResult {
    added = List.copyOf(added);
    changed = List.copyOf(changed);
    removed = List.copyOf(removed);
    unchanged = List.copyOf(unchanged);
    failed = Map.copyOf(failed);
    problems = List.copyOf(problems);
  }

  static ReloadResult invalid(String source, List<ManifestProblem> problems) {
    return new ReloadResult(source, List.of(), List.of(), List.of(), List.of(), Map.of(), problems);
  }

  /** True when the manifest was valid (some changed functions may still have failed). */
  public boolean applied() {
    return problems.stream().noneMatch(ManifestProblem::isError);
  }

  /** One line for the log. */
  public String describe() {
    if (!applied()) {
      return "manifest "
          + source
          + " not reloaded: "
          + problems.stream().filter(ManifestProblem::isError).count()
          + " error(s); the last good configuration stays in effect";
    }
    return "manifest "
        + source
        + " reloaded: added "
        + added
        + ", changed "
        + changed
        + ", removed "
        + removed
        + ", unchanged "
        + unchanged
        + (failed.isEmpty() ? "" : ", not applied (old instances keep serving) " + failed);
  }
}
