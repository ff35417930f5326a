package dev.locallambdas.function;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RunDirectoryTest {
  @TempDir Path base;

  private Process holder;

  @AfterEach
  void killHolder() throws InterruptedException {
    if (holder != null) {
      holder.destroyForcibly();
      holder.waitFor();
    }
  }

  /** Another gateway (a JVM of its own) holding a run directory in {@link #base}. */
  private Path startHolder() throws Exception {
    String java = ProcessHandle.current().info().command().orElseThrow();
    holder =
        new ProcessBuilder(
                java,
                "-cp",
                System.getProperty("java.class.path"),
                RunDirectoryHolderMain.class.getName(),
                base.toString())
            .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
            .redirectError(ProcessBuilder.Redirect.INHERIT)
            .start();
    try (BufferedReader out =
        new BufferedReader(
            new InputStreamReader(holder.getInputStream(), StandardCharsets.UTF_8))) {
      return Path.of(out.readLine());
    }
  }

  @Test
  void createdDirectoryIsPrivateAndLocked() throws Exception {
    Path dir = RunDirectory.create(base);
    try {
      assertThat(dir.getFileName().toString()).matches("ll-[0-9a-f]{8}");
      assertThat(Files.getPosixFilePermissions(dir))
          .isEqualTo(java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
      assertThat(dir.resolve(RunDirectory.LOCK)).isRegularFile();
      assertThat(RunDirectory.removeStale(base)).as("its own directory is alive").isEmpty();
    } finally {
      RunDirectory.delete(dir);
    }
    assertThat(dir).doesNotExist();
  }

  @Test
  void aLaterGatewayRemovesWhatAKilledOneLeftAndNotWhatALiveOneHolds() throws Exception {
    Path live = startHolder();
    assertThat(live).isDirectory();
    Files.createFile(live.resolve("fn-1.http.sock"));

    assertThat(RunDirectory.removeStale(base)).isEmpty();
    assertThat(live.resolve("fn-1.http.sock")).exists();

    holder.destroyForcibly(); // SIGKILL: it cannot clean up
    holder.waitFor();
    assertThat(live).as("left behind by the killed gateway").isDirectory();

    Path next = RunDirectory.create(base);
    try {
      assertThat(live).doesNotExist();
      assertThat(next).isDirectory();
    } finally {
      RunDirectory.delete(next);
    }
  }

  /** Made by an older version, or by a gateway still making it: its owner cannot be told. */
  @Test
  void aDirectoryWithoutLockFileIsLeftAlone() throws Exception {
    Path unknown = Files.createDirectory(base.resolve("ll-0000abcd"));
    Path other = Files.createDirectory(base.resolve("not-ours"));

    List<Path> removed = RunDirectory.removeStale(base);

    assertThat(removed).isEmpty();
    assertThat(unknown).isDirectory();
    assertThat(other).isDirectory();
  }
}
