package dev.locallambdas.manifest;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ExecutableCheckTest {
  @TempDir Path dir;

  private Manifest manifest(String functions) throws Exception {
    return ManifestReader.read(
        ManifestFiles.write(dir, "<manifest version=\"1\">\n" + functions + "</manifest>\n"));
  }

  private static String function(String id, String executable) {
    return "<function><id>"
        + id
        + "</id><executable>"
        + executable
        + "</executable><route>/"
        + id
        + "</route></function>\n";
  }

  private Path script(String name, String permissions) throws Exception {
    Path p = dir.resolve(name);
    Files.createDirectories(p.getParent());
    Files.writeString(p, "#!/bin/sh\nexit 0\n");
    Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(permissions));
    return p;
  }

  @Test
  void findsProgramsOnPathAndByRelativeOrAbsolutePath() throws Exception {
    script("bin/tool", "rwxr-xr-x");
    Path absolute = script("abs-tool", "rwx------");
    Manifest m =
        manifest(
            function("a", "tool")
                + function("b", "./bin/tool")
                + function("c", absolute.toString()));

    assertThat(ExecutableCheck.check(m, "/nonexistent:" + dir.resolve("bin"))).isEmpty();
  }

  @Test
  void reportsANameThatIsNotOnPath() throws Exception {
    script("bin/tool", "rw-r--r--"); // present on PATH but not executable: does not count
    Manifest m = manifest(function("hello", "tool"));

    List<ManifestProblem> problems = ExecutableCheck.check(m, dir.resolve("bin").toString());

    assertThat(problems)
        .singleElement()
        .hasToString(
            m.source()
                + ": <executable> of 'hello': 'tool' was not found on PATH ("
                + dir.resolve("bin")
                + "): install it, or give its path, e.g. <executable>./bin/tool</executable>");
  }

  @Test
  void reportsAMissingPathRelativeToTheWorkingDir() throws Exception {
    Manifest m = manifest(function("hello", "./bin/hello"));

    List<ManifestProblem> problems = ExecutableCheck.check(m, "/usr/bin");

    assertThat(problems)
        .singleElement()
        .hasToString(
            m.source()
                + ": <executable> of 'hello': './bin/hello' not found: "
                + dir.resolve("bin/hello")
                + " does not exist (a relative path resolves against <working_dir>, here "
                + dir
                + "); fix the path in <executable>");
  }

  @Test
  void reportsAFileThatIsNotExecutable() throws Exception {
    Path p = script("run.sh", "rw-r--r--");
    Manifest m = manifest(function("hello", "./run.sh"));

    assertThat(ExecutableCheck.check(m, "/usr/bin"))
        .singleElement()
        .asString()
        .endsWith("<executable> of 'hello': './run.sh' is not executable: run chmod +x " + p);
  }

  @Test
  void reportsAMissingWorkingDirectory() throws Exception {
    Manifest m =
        manifest(
            "<function><id>w</id><executable>sh</executable><route>/w</route>"
                + "<working_dir>nowhere</working_dir></function>\n");

    assertThat(ExecutableCheck.check(m, "/usr/bin:/bin"))
        .singleElement()
        .hasToString(
            m.source()
                + ": <working_dir> of 'w': directory "
                + dir.resolve("nowhere")
                + " does not exist: create it or fix <working_dir>");
  }

  @Test
  void publicCheckUsesTheGatewaysPath() throws Exception {
    Manifest m = manifest(function("sh", "sh") + function("ghost", "no-such-program-ll-test"));

    assertThat(ManifestReader.checkExecutables(m))
        .singleElement()
        .extracting(ManifestProblem::element)
        .isEqualTo("<executable> of 'ghost'");
  }
}
