package dev.locallambdas.process;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** posix_spawn through FFM, where it can be called (Linux, glibc 2.34 or newer). */
class PosixSpawnTest {
  @TempDir Path dir;

  private PosixSpawn posix;

  @BeforeEach
  void load() {
    posix = PosixSpawn.load().orElse(null);
    assumeTrue(posix != null, "posix_spawn cannot be called here (not Linux with glibc 2.34+)");
  }

  private static String read(InputStream in) throws IOException {
    try (in) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  @Test
  void theGatewaysLauncherUsesIt() {
    try (ChildLauncher launcher = new ChildLauncher()) {
      assertThat(launcher.usesPosixSpawn()).isTrue();
    }
  }

  @Test
  void childGetsExactlyItsEnvironmentDirectoryAndASessionOfItsOwn() throws Exception {
    Process p =
        posix.start(
            List.of(
                "/bin/sh", "-c", "echo \"$ONLY\"; pwd; ps -o pid=,pgid=,sid= -p $$; env | wc -l"),
            Map.of("ONLY", "this one", "PATH", "/usr/bin:/bin"),
            dir);
    String out = read(p.getInputStream());
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).isZero();
    List<String> lines = out.lines().toList();
    assertThat(lines.get(0)).isEqualTo("this one");
    assertThat(Path.of(lines.get(1)).toRealPath()).isEqualTo(dir.toRealPath());
    String pid = Long.toString(p.pid());
    assertThat(lines.get(2).trim().split("\\s+", -1)).containsExactly(pid, pid, pid);
    // ONLY and PATH, plus what sh sets itself (PWD)
    assertThat(Integer.parseInt(lines.get(3).trim())).isLessThanOrEqualTo(3);
    read(p.getErrorStream());
  }

  @Test
  void exitValuesAreReportedAsTheJdkReportsThem() throws Exception {
    Process exited = posix.start(List.of("/bin/sh", "-c", "echo bye >&2; exit 3"), Map.of(), dir);
    assertThat(read(exited.getErrorStream())).isEqualTo("bye\n");
    assertThat(exited.waitFor()).isEqualTo(3);
    read(exited.getInputStream());

    Process killed = posix.start(List.of("/bin/sh", "-c", "kill -9 $$"), Map.of(), dir);
    assertThat(killed.waitFor()).isEqualTo(128 + 9);
    assertThat(killed.isAlive()).isFalse();
    assertThat(killed.toHandle().isAlive()).as("reaped, not a zombie").isFalse();
    read(killed.getInputStream());
    read(killed.getErrorStream());
  }

  @Test
  void aProgramThatCannotRunFailsWithTheReason() throws Exception {
    Path text = Files.writeString(dir.resolve("not-a-program"), "hello\n");
    assertThatThrownBy(() -> posix.start(List.of(dir.resolve("absent").toString()), Map.of(), dir))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("no such file or directory");
    assertThatThrownBy(() -> posix.start(List.of(text.toString()), Map.of(), dir))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("permission denied");
  }
}
