package dev.locallambdas.process;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ChildLauncherTest {
  private static final Duration LONG_GRACE = Duration.ofSeconds(30);

  @TempDir Path dir;

  private final ChildLauncher launcher = newLauncher();

  /** The launcher under test: as the gateway makes it (posix_spawn where it can be called). */
  ChildLauncher newLauncher() {
    return new ChildLauncher();
  }

  /** Every process a test started or saw started, checked after each test. */
  private final List<ProcessHandle> seen = new ArrayList<>();

  @AfterEach
  void noProcessOutlivesTheTest() {
    launcher.close();
    try {
      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> seen.stream().noneMatch(ProcessTree::isRunning));
    } finally {
      seen.forEach(ProcessHandle::destroyForcibly);
    }
  }

  private ChildProcess start(ChildLauncher on, LaunchSpec spec) throws IOException {
    ChildProcess child = on.start(spec);
    seen.add(child.handle());
    return child;
  }

  private ChildProcess start(LaunchSpec spec) throws IOException {
    return start(launcher, spec);
  }

  private static LaunchSpec sh(String script, Duration grace) {
    return new LaunchSpec("sh-test", List.of("sh", "-c", script), null, Map.of(), grace);
  }

  private static ExitStatus exitOf(ChildProcess child) throws Exception {
    return child.onExit().get(30, TimeUnit.SECONDS);
  }

  /** Waits until the child has forked a grandchild and returns it. */
  private ProcessHandle grandchildOf(ChildProcess child) {
    ProcessHandle grandchild =
        await()
            .atMost(Duration.ofSeconds(10))
            .until(
                () -> {
                  try (Stream<ProcessHandle> d = child.handle().descendants()) {
                    return d.filter(p -> p.info().command().orElse("").endsWith("sleep"))
                        .findFirst();
                  }
                },
                Optional::isPresent)
            .orElseThrow();
    seen.add(grandchild);
    return grandchild;
  }

  private static void awaitStderr(ChildProcess child, String line) {
    await().atMost(Duration.ofSeconds(10)).until(() -> child.recentStderr().contains(line));
  }

  @Test
  void passesEnvironmentAndWorkingDirectoryToChild() throws Exception {
    String overridden =
        System.getenv().keySet().stream().filter(k -> !k.equals("PATH")).findFirst().orElseThrow();
    LaunchSpec spec =
        new LaunchSpec(
            "env-test",
            List.of("sh", "-c", "pwd > where.txt; env > env.txt"),
            dir,
            Map.of("LL_EXTRA", "extra value", overridden, "overridden value"),
            LONG_GRACE);

    ExitStatus status = exitOf(start(spec));

    assertThat(status.describe()).isEqualTo("exited with status 0");
    assertThat(Path.of(Files.readString(dir.resolve("where.txt")).strip()).toRealPath())
        .isEqualTo(dir.toRealPath());
    List<String> env = Files.readAllLines(dir.resolve("env.txt"));
    assertThat(env)
        .contains(
            "LL_EXTRA=extra value",
            overridden + "=overridden value",
            "PATH=" + System.getenv("PATH"));
  }

  @Test
  void runsWithoutSetprivToo() throws Exception {
    try (ChildLauncher plain = new ChildLauncher(Wrappers::none, false)) {
      assertThat(plain.childrenDieWithGateway()).isFalse();
      ChildProcess child = start(plain, sh("echo plain >&2; exit 3", LONG_GRACE));
      assertThat(exitOf(child).describe()).isEqualTo("exited with status 3");
      assertThat(child.recentStderr()).containsExactly("plain");
    }
  }

  @Test
  void resolvesRelativeProgramAgainstWorkingDirectory() throws Exception {
    Path script = dir.resolve("hello.sh");
    Files.writeString(script, "#!/bin/sh\necho \"hello $1\" >&2\n");
    script.toFile().setExecutable(true);

    ChildProcess child =
        start(new LaunchSpec("relative", List.of("./hello.sh", "you"), dir, Map.of(), LONG_GRACE));

    assertThat(exitOf(child).code()).isZero();
    assertThat(child.recentStderr()).containsExactly("hello you");
  }

  @Test
  void drainsLargeOutputSoChattyChildNeverBlocks() throws Exception {
    Logger output = Logger.getLogger("dev.locallambdas.child");
    Level before = output.getLevel();
    output.setLevel(Level.WARNING); // 20 MB of log lines would only slow the test down
    try {
      String program =
          """
          import sys
          line = "x" * 999 + "\\n"
          for _ in range(10_000):
              sys.stdout.write(line)
          for _ in range(10_000):
              sys.stderr.write(line)
          for i in range(25):
              sys.stderr.write("last %d\\n" % i)
          """;
      ChildProcess child =
          start(
              new LaunchSpec(
                  "chatty", List.of("python3", "-c", program), null, Map.of(), LONG_GRACE));

      assertThat(child.onExit().get(60, TimeUnit.SECONDS).code()).isZero();
      List<String> recent = child.recentStderr();
      assertThat(recent).hasSize(20);
      assertThat(recent.getFirst()).isEqualTo("last 5");
      assertThat(recent.getLast()).isEqualTo("last 24");
    } finally {
      output.setLevel(before);
    }
  }

  @Test
  void stopLetsChildHandleSigterm() throws Exception {
    ChildProcess child =
        start(
            sh(
                "trap 'echo got TERM >&2; exit 7' TERM; echo ready >&2;"
                    + " while true; do sleep 0.1; done",
                LONG_GRACE));
    awaitStderr(child, "ready");

    ExitStatus status = child.stop().get(20, TimeUnit.SECONDS);

    assertThat(status.describe()).isEqualTo("exited with status 7");
    assertThat(child.recentStderr()).contains("got TERM");
    assertThat(child.isAlive()).isFalse();
  }

  @Test
  void stopTerminatesDescendantsToo() throws Exception {
    ChildProcess child = start(sh("sleep 1000 & echo ready >&2; wait", LONG_GRACE));
    awaitStderr(child, "ready");
    ProcessHandle grandchild = grandchildOf(child);

    ExitStatus status = child.stop().get(20, TimeUnit.SECONDS);

    assertThat(status.signal()).isEqualTo(15);
    await().atMost(Duration.ofSeconds(10)).until(() -> !ProcessTree.isRunning(grandchild));
  }

  @Test
  void stopKillsChildIgnoringSigtermAfterGrace() throws Exception {
    // The ignored TERM is inherited by the sleep, so both need the SIGKILL.
    ChildProcess child =
        start(sh("trap '' TERM; sleep 1000 & echo ready >&2; wait", Duration.ofMillis(200)));
    awaitStderr(child, "ready");
    ProcessHandle grandchild = grandchildOf(child);

    ExitStatus status = child.stop().get(20, TimeUnit.SECONDS);

    assertThat(status.describe()).startsWith("killed by signal 9 (SIGKILL)");
    await().atMost(Duration.ofSeconds(10)).until(() -> !ProcessTree.isRunning(grandchild));
  }

  @Test
  void stopAndKillAreIdempotent() throws Exception {
    ChildProcess child = start(sh("echo ready >&2; exec sleep 1000", LONG_GRACE));
    awaitStderr(child, "ready");

    child.kill();
    child.kill();
    ExitStatus first = child.stop().get(20, TimeUnit.SECONDS);
    ExitStatus second = child.stop().get(20, TimeUnit.SECONDS);

    assertThat(first.signal()).isEqualTo(9);
    assertThat(second).isEqualTo(first);
  }

  @Test
  void missingProgramFailsWithClearMessage() {
    assertThatThrownBy(() -> start(LaunchSpec.of("missing", List.of("no-such-program-ll"))))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("'missing'")
        .hasMessageContaining("no-such-program-ll")
        .hasMessageContaining("not found on PATH");
    assertThatThrownBy(
            () ->
                start(
                    new LaunchSpec(
                        "missing-path", List.of("bin/absent"), dir, Map.of(), LONG_GRACE)))
        .isInstanceOf(IOException.class)
        .hasMessageContaining(dir.resolve("bin/absent").toString())
        .hasMessageContaining("does not exist");
  }

  @Test
  void nonExecutableProgramFailsWithClearMessage() throws Exception {
    Path script = Files.writeString(dir.resolve("plain.sh"), "#!/bin/sh\n");

    assertThatThrownBy(
            () ->
                start(
                    new LaunchSpec(
                        "noexec", List.of(script.toString()), dir, Map.of(), LONG_GRACE)))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("not executable")
        .hasMessageContaining("chmod +x " + script);
  }

  @Test
  void missingWorkingDirectoryFailsWithClearMessage() {
    Path absent = dir.resolve("absent");
    assertThatThrownBy(
            () -> start(new LaunchSpec("nodir", List.of("true"), absent, Map.of(), LONG_GRACE)))
        .isInstanceOf(IOException.class)
        .hasMessageContaining(absent.toString())
        .hasMessageContaining("does not exist");
  }

  @Test
  void closeStopsEveryChildAndRefusesNewOnes() throws Exception {
    ChildProcess ignoring =
        start(
            sh(
                "trap '' TERM; echo ready >&2; while true; do sleep 0.1; done",
                Duration.ofMillis(200)));
    ChildProcess polite = start(sh("echo ready >&2; exec sleep 1000", LONG_GRACE));
    awaitStderr(ignoring, "ready");
    awaitStderr(polite, "ready");

    launcher.close();

    assertThat(ignoring.isAlive()).isFalse();
    assertThat(polite.isAlive()).isFalse();
    assertThat(polite.onExit().getNow(null).signal()).isEqualTo(15);
    assertThatThrownBy(() -> start(LaunchSpec.of("late", List.of("true"))))
        .isInstanceOf(IllegalStateException.class);
  }

  @Test
  void spawnsOnTheChildSpawnerThread() throws Exception {
    ChildProcess child = start(sh("exit 0", LONG_GRACE));
    exitOf(child);

    assertThat(Thread.getAllStackTraces().keySet())
        .anySatisfy(
            t -> {
              assertThat(t.getName()).isEqualTo("child-spawner");
              assertThat(t.isDaemon()).isTrue();
              assertThat(t.isVirtual()).isFalse();
            });
  }

  /** The pid a child's script wrote to {@code name} in the test directory, once it is there. */
  private ProcessHandle pidFrom(String name) throws IOException {
    Path file = dir.resolve(name);
    await("pid file " + name)
        .atMost(Duration.ofSeconds(10))
        .until(() -> Files.exists(file) && Files.readString(file).endsWith("\n"));
    ProcessHandle p =
        ProcessHandle.of(Long.parseLong(Files.readString(file).strip())).orElseThrow();
    seen.add(p);
    return p;
  }

  private LaunchSpec inDir(String script) {
    return new LaunchSpec("sh-test", List.of("sh", "-c", script), dir, Map.of(), LONG_GRACE);
  }

  /**
   * A terminal sends Ctrl-C (SIGINT), Ctrl-\ and Ctrl-Z to its foreground process group, and a
   * hang-up to its session: a child in a session of its own gets none of them.
   */
  @Test
  void childLeadsASessionAndProcessGroupOfItsOwn() throws Exception {
    assumeTrue(Wrappers.installed().setsid().isPresent(), "util-linux setsid is absent");
    ChildProcess child = start(sh("echo ready >&2; exec sleep 1000", LONG_GRACE));
    awaitStderr(child, "ready");

    String stat = Files.readString(Path.of("/proc", Long.toString(child.pid()), "stat"));
    String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ", -1);
    assertThat(Long.parseLong(fields[2])).as("process group").isEqualTo(child.pid());
    assertThat(Long.parseLong(fields[3])).as("session").isEqualTo(child.pid());
    assertThat(Integer.parseInt(fields[4])).as("controlling terminal").isZero();
  }

  @Test
  void childEnvironmentCarriesItsInstanceMarker() throws Exception {
    ChildProcess child = start(inDir("echo \"$LOCAL_LAMBDAS_INSTANCE\" > marker.txt"));
    exitOf(child);

    assertThat(Files.readString(dir.resolve("marker.txt")).strip()).matches("[0-9a-f]{16}/sh-test");
  }

  /** A grandchild whose parent exited is re-parented to init: no longer a descendant. */
  @Test
  void stopReachesAnOrphanedGrandchildInTheChildsProcessGroup() throws Exception {
    assumeTrue(Wrappers.installed().setsid().isPresent(), "util-linux setsid is absent");
    ChildProcess child =
        start(inDir("(env -i /bin/sleep 1000 & echo $! > orphan.pid); exec sleep 1000"));
    ProcessHandle orphan = pidFrom("orphan.pid");

    child.stop().get(20, TimeUnit.SECONDS);

    await().atMost(Duration.ofSeconds(10)).until(() -> !ProcessTree.isRunning(orphan));
  }

  /** A daemon leaves the group (setsid) and its parent, but keeps the environment it inherited. */
  @Test
  void stopReachesADaemonThatLeftTheProcessGroupThroughItsMarker() throws Exception {
    ChildProcess child =
        start(
            inDir(
                "(setsid sleep 1000 & echo $! > daemon.pid) 2>/dev/null"
                    + " || (sleep 1000 & echo $! > daemon.pid); exec sleep 1000"));
    ProcessHandle daemon = pidFrom("daemon.pid");

    child.stop().get(20, TimeUnit.SECONDS);

    await().atMost(Duration.ofSeconds(10)).until(() -> !ProcessTree.isRunning(daemon));
  }

  @Test
  void whatAChildLeftBehindIsStoppedWhenTheChildExitsOnItsOwn() throws Exception {
    ChildProcess child =
        start(
            inDir(
                "sh -c 'trap \"echo TERM > left.got; exit 0\" TERM; echo $$ > left.pid;"
                    + " while :; do sleep 0.1; done' &"
                    + " while [ ! -s left.pid ]; do sleep 0.01; done; exit 3"));
    assertThat(exitOf(child).code()).isEqualTo(3);
    long left = Long.parseLong(Files.readString(dir.resolve("left.pid")).strip());

    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> ProcessHandle.of(left).filter(ProcessTree::isRunning).isEmpty());
    assertThat(dir.resolve("left.got")).hasContent("TERM\n");
  }

  @Test
  void closeLetsTheKeeperGoAndLeavesNoProcess() throws Exception {
    ChildProcess child = start(inDir("(sleep 1000 & echo $! > orphan.pid); exec sleep 1000"));
    ProcessHandle orphan = pidFrom("orphan.pid");
    List<ProcessHandle> before = keepers();
    assertThat(before).isNotEmpty();

    launcher.close();

    assertThat(child.isAlive()).isFalse();
    await().atMost(Duration.ofSeconds(10)).until(() -> !ProcessTree.isRunning(orphan));
    assertThat(before).noneMatch(ProcessTree::isRunning);
  }

  /** This test JVM's keeper processes. */
  private static List<ProcessHandle> keepers() {
    try (Stream<ProcessHandle> children = ProcessHandle.current().children()) {
      return children
          .filter(ProcessTree::isRunning)
          .filter(
              p -> p.info().arguments().map(a -> List.of(a).contains(Keeper.NAME)).orElse(false))
          .toList();
    }
  }

  @Test
  void childInheritsNoDescriptorButStdinStdoutAndStderr() throws Exception {
    ChildProcess child = start(sh("exec 1>&2; ls /proc/$$/fd; readlink /proc/$$/fd/0", LONG_GRACE));

    assertThat(exitOf(child).code()).isZero();
    assertThat(child.recentStderr()).containsExactly("0", "1", "2", "/dev/null");
  }
}
