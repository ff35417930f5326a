package dev.locallambdas.manifest;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ManifestEnvFileTest {
  @TempDir Path dir;

  private ManifestCheck check(String inner) {
    String xml =
        """
      <manifest version="1">
        <function>
          <id>f</id>
          <executable>sh</executable>
          <route>/f</route>
          %s
        </function>
      </manifest>
      """
            .formatted(inner);
    return ManifestReader.check(ManifestFiles.write(dir, xml), dir, "/usr/bin:/bin");
  }

  private void file(String name, String text) throws IOException {
    Path p = dir.resolve(name);
    Files.createDirectories(p.getParent());
    Files.writeString(p, text);
  }

  @Test
  void envWinsOverEnvFileWhichWinsOverDotEnv() throws IOException {
    file(".env", "A=dotenv\nB=dotenv\nC=dotenv\n");
    file("conf/f.env", "export B=file\nC=file\n");
    ManifestCheck c = check("<env_file>conf/f.env</env_file><env name=\"C\">element</env>");
    assertThat(c.problems()).isEmpty();
    assertThat(c.manifest().function("f").env())
        .containsEntry("A", "dotenv")
        .containsEntry("B", "file")
        .containsEntry("C", "element");
  }

  @Test
  void laterEnvFilesWin() throws IOException {
    file("one.env", "A=1\nB=1\n");
    file("two.env", "B=2\n");
    ManifestCheck c = check("<env_file>one.env</env_file><env_file>two.env</env_file>");
    assertThat(c.manifest().function("f").env()).containsEntry("A", "1").containsEntry("B", "2");
  }

  @Test
  void aBadEnvFileIsAProblemAtItsOwnLineWithoutTheValue() throws IOException {
    file("f.env", "OK=1\nTOKEN=\"hunter2\n");
    ManifestCheck c = check("<env_file>f.env</env_file>");
    assertThat(c.valid()).isFalse();
    assertThat(c.errors())
        .singleElement()
        .hasToString(
            dir.resolve("f.env")
                + ":2: TOKEN: the"
                + " double-quoted value opened here is never closed: add the closing \"");
    assertThat(c.problems().toString()).doesNotContain("hunter2");
  }

  @Test
  void aBadDotEnvFailsTheManifestToo() throws IOException {
    file(".env", "not a line\n");
    ManifestCheck c = check("");
    assertThat(c.errors())
        .singleElement()
        .satisfies(p -> assertThat(p.file()).isEqualTo(dir.resolve(".env")));
  }

  @Test
  void aMissingEnvFileNamesTheManifestLine() {
    ManifestCheck c = check("<env_file>nope.env</env_file>");
    assertThat(c.errors())
        .singleElement()
        .satisfies(
            p -> {
              assertThat(p.line()).isEqualTo(6);
              assertThat(p.message()).contains("nope.env does not exist");
            });
  }

  @Test
  void warningsOfAnEnvFileDoNotStopTheManifest() throws IOException {
    file("f.env", "A=${HOME}\n");
    ManifestCheck c = check("<env_file>f.env</env_file>");
    assertThat(c.valid()).isTrue();
    assertThat(c.warnings()).singleElement().asString().contains("not expanded");
  }

  @Test
  void debugIsOffByDefaultAndTakesAnOptionalPort() {
    assertThat(check("").manifest().function("f").debugPort()).isNull();
    assertThat(check("<debug/>").manifest().function("f").debugPort()).isZero();
    assertThat(check("<debug>5005</debug>").manifest().function("f").debugPort()).isEqualTo(5005);
    assertThat(check("<debug>70000</debug>").errors())
        .singleElement()
        .asString()
        .contains("<debug> of 'f'");
  }
}
