package dev.locallambdas.reload;

import dev.locallambdas.manifest.FunctionSpec;
import dev.locallambdas.manifest.Manifest;
import java.util.ArrayList;
import java.util.List;

/**
 * What a reload does, computed from the manifest in effect and the new one without touching
 * anything: functions added, changed (a different definition: new instances replace the old ones),
 * removed, and unchanged (their pool and instances are kept). Lists follow the new manifest's order
 * (removed ones: the old manifest's).
 */
record Plan(
    List<FunctionSpec> added,
    List<Change> changed,
    List<FunctionSpec> removed,
    List<FunctionSpec> unchanged) {

  /** A function whose definition differs between the two manifests. */
  record Change(FunctionSpec before, FunctionSpec after) {
    String id() {
      return after.id();
    }
  }

  Plan {
    added = List.copyOf(added);
    changed = List.copyOf(changed);
    removed = List.copyOf(removed);
    unchanged = List.copyOf(unchanged);
  }

  static Plan between(Manifest current, Manifest next) {
    List<FunctionSpec> added = new ArrayList<>();
    List<Change> changed = new ArrayList<>();
    List<FunctionSpec> removed = new ArrayList<>();
    List<FunctionSpec> unchanged = new ArrayList<>();
    for (FunctionSpec after : next.functions()) {
      FunctionSpec before = current.function(after.id());
      if (before == null) {
        added.add(after);
      } else if (before.sameDefinition(after)) {
        unchanged.add(before);
      } else {
        changed.add(new Change(before, after));
      }
    }
    for (FunctionSpec before : current.functions()) {
      if (next.function(before.id()) == null) {
        removed.add(before);
      }
    }
    return new Plan(added, changed, removed, unchanged);
  }

  /** True when the reload changes nothing (the file was saved without a change that matters). */
  boolean empty() {
    return added.isEmpty() && changed.isEmpty() && removed.isEmpty();
  }

  static List<String> ids(List<FunctionSpec> specs) {
    return specs.stream().map(FunctionSpec::id).toList();
  }
}
