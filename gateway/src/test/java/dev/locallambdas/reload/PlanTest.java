package dev.locallambdas.reload;

import static org.assertj.core.api.Assertions.assertThat;

import dev.locallambdas.manifest.FunctionSpec;
import dev.locallambdas.manifest.Manifest;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class PlanTest {
  private static FunctionSpec.Builder fn(String id) {
    return FunctionSpec.builder(id).executable("python3").arg(id + ".py").route("/" + id + "/*");
  }

  private static Manifest manifest(FunctionSpec... specs) {
    return new Manifest(Path.of("/tmp/manifest.xml"), false, List.of(specs));
  }

  @Test
  void sortsFunctionsIntoAddedChangedRemovedAndUnchanged() {
    Manifest before = manifest(fn("same").build(), fn("edited").build(), fn("gone").build());
    Manifest after =
        manifest(
            fn("same").build(),
            fn("edited").requestTimeout(Duration.ofSeconds(5)).build(),
            fn("new").build());

    Plan plan = Plan.between(before, after);

    assertThat(Plan.ids(plan.added())).containsExactly("new");
    assertThat(plan.changed()).extracting(Plan.Change::id).containsExactly("edited");
    assertThat(plan.changed().getFirst().before().requestTimeout()).hasSeconds(30);
    assertThat(plan.changed().getFirst().after().requestTimeout()).hasSeconds(5);
    assertThat(Plan.ids(plan.removed())).containsExactly("gone");
    assertThat(Plan.ids(plan.unchanged())).containsExactly("same");
    assertThat(plan.empty()).isFalse();
  }

  @Test
  void anUnchangedFunctionKeepsTheSpecInEffectSoItsPoolIsKept() {
    FunctionSpec inEffect = fn("a").build();
    Plan plan = Plan.between(manifest(inEffect), manifest(fn("a").build()));

    assertThat(plan.empty()).isTrue();
    assertThat(plan.unchanged()).containsExactly(inEffect);
  }

  @Test
  void everySettingCountsAsAChange() {
    FunctionSpec base = fn("a").build();
    List<FunctionSpec> variants =
        List.of(
            fn("a").arg("--flag").build(),
            fn("a").route("/other").build(),
            fn("a").env("X", "1").build(),
            fn("a").maxInstances(2).build(),
            fn("a").watch("src/**").build(),
            fn("a").template(List.of()).build(),
            fn("a").workingDir(Path.of("/tmp")).build());
    for (FunctionSpec v : variants) {
      assertThat(Plan.between(manifest(base), manifest(v)).changed()).as(v.toString()).hasSize(1);
    }
  }

  @Test
  void anEmptyManifestRemovesEverything() {
    Plan plan = Plan.between(manifest(fn("a").build(), fn("b").build()), manifest());

    assertThat(Plan.ids(plan.removed())).containsExactly("a", "b");
    assertThat(plan.added()).isEmpty();
  }
}
