package dev.locallambdas.manifest;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.Modifier;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** A manifest reload keeps a function whose definition is the same: every setting must count. */
class FunctionSpecDefinitionTest {
  @Test
  void everyFieldTakesPartInTheDefinition() {
    long fields =
        Arrays.stream(FunctionSpec.class.getDeclaredFields())
            .filter(f -> !Modifier.isStatic(f.getModifiers()))
            .count();
    FunctionSpec spec = FunctionSpec.builder("a").executable("x").route("/a").build();

    assertThat(spec.definition())
        .as("a field added to FunctionSpec must be added to definition() too")
        .hasSize((int) fields);
  }

  @Test
  void equalSettingsAreTheSameDefinition() {
    FunctionSpec a = FunctionSpec.builder("a").executable("x").route("/a").env("K", "v").build();
    FunctionSpec b = FunctionSpec.builder("a").executable("x").route("/a").env("K", "v").build();

    assertThat(a.sameDefinition(b)).isTrue();
    assertThat(a.sameDefinition(a.toBuilder().env("L", "w").build())).isFalse();
    assertThat(a.sameDefinition(a.toBuilder().watch("*.py").build())).isFalse();
  }

  @Test
  void watchGlobsAreReadFromTheManifestAndCheckedAsGlobs() {
    FunctionSpec spec =
        FunctionSpec.builder("a").executable("x").route("/a").watch(" src/** ").build();
    assertThat(spec.watch()).containsExactly("src/**");
    assertThat(
            org.assertj.core.api.Assertions.catchThrowable(
                () -> FunctionSpec.builder("a").watch("src/{a")))
        .hasMessageContaining("is not a glob");
  }
}
