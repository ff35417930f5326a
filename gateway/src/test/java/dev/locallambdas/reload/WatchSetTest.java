package dev.locallambdas.reload;

import static org.assertj.core.api.Assertions.assertThat;

import dev.locallambdas.manifest.FunctionSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WatchSetTest {
  @TempDir Path dir;

  @Test
  void byDefaultEverythingUnderTheWorkingDirectoryAndTheProgramCount() throws IOException {
    Path elsewhere = Files.createDirectories(dir.resolve("elsewhere"));
    Path work = Files.createDirectories(dir.resolve("work"));
    Path program = Files.writeString(elsewhere.resolve("handler.py"), "");
    Path lib = Files.writeString(elsewhere.resolve("lib.jar"), "");
    FunctionSpec spec =
        FunctionSpec.builder("f")
            .executable("python3")
            .arg("-u")
            .arg(program.toString())
            .arg("/nonexistent:" + lib)
            .route("/f")
            .workingDir(work)
            .build();
    WatchSet set = WatchSet.of(spec, dir.resolve("manifest.xml"));

    assertThat(set.matches(work.resolve("app.py"))).isTrue();
    assertThat(set.matches(work.resolve("pkg/mod.py"))).isTrue();
    assertThat(set.matches(program)).isTrue();
    assertThat(set.matches(lib)).isTrue();
    assertThat(set.matches(elsewhere.resolve("other.py"))).isFalse();
    assertThat(set.roots()).contains(work, elsewhere);
  }

  @Test
  void editorsTemporaryFilesBytecodeAndOutputAreIgnored() {
    FunctionSpec spec =
        FunctionSpec.builder("f").executable("python3").route("/f").workingDir(dir).build();
    WatchSet set = WatchSet.of(spec, dir.resolve("manifest.xml"));

    for (String name :
        new String[] {
          ".app.py.swp",
          ".app.py.swx",
          "app.py~",
          "4913",
          ".#app.py",
          "#app.py#",
          "app.py.tmp",
          "app.py___jb_tmp___",
          "app.py___jb_old___",
          "__pycache__/app.cpython-313.pyc",
          "app.pyc",
          ".git/index",
          "node_modules/.cache/x",
          "logs/today.txt",
          "server.log",
          "data.sqlite-journal",
          "manifest.xml"
        }) {
      assertThat(set.matches(dir.resolve(name))).as(name).isFalse();
    }
    assertThat(set.matches(dir.resolve("app.py"))).isTrue();
  }

  @Test
  void aWorkingDirectoryUnderAnIgnoredNameStillCounts() throws IOException {
    Path work = Files.createDirectories(dir.resolve(".cache/project"));
    FunctionSpec spec =
        FunctionSpec.builder("f").executable("python3").route("/f").workingDir(work).build();

    assertThat(WatchSet.of(spec, dir.resolve("m.xml")).matches(work.resolve("app.py"))).isTrue();
  }

  @Test
  void globsNarrowTheSet() throws IOException {
    Files.createDirectories(dir.resolve("src/pkg"));
    FunctionSpec spec =
        FunctionSpec.builder("f")
            .executable("java")
            .route("/f")
            .workingDir(dir)
            .watch("src/**/*.py")
            .watch("target/app.jar")
            .build();
    WatchSet set = WatchSet.of(spec, dir.resolve("manifest.xml"));

    assertThat(set.matches(dir.resolve("src/pkg/a.py"))).isTrue();
    assertThat(set.matches(dir.resolve("src/a.py"))).as("a/**/b also matches a/b").isTrue();
    assertThat(set.matches(dir.resolve("src/a.txt"))).isFalse();
    assertThat(set.matches(dir.resolve("target/app.jar"))).isTrue();
    assertThat(set.matches(dir.resolve("target/other.jar"))).isFalse();
    assertThat(set.matches(dir.resolve("README.md"))).isFalse();
    assertThat(set.roots()).contains(dir.resolve("src"));
  }
}
