package dev.locallambdas.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a gateway's functions start, and what is left of a gateway, however it stops: Ctrl-C in its
 * terminal, SIGKILL, an admin stop. Each gateway is a real process in a process group of its own,
 * as a shell starts a job, with SIGINT at its default (a test JVM started in the background may
 * have inherited it ignored).
 */
@ExtendWith(NoLeaks.class)
class ProcessIsolationTest {
  private static final Pattern SERVING = Pattern.compile("on http://([0-9.]+):(\\d+)");

  @TempDir Path temp;

  /** Every gateway started, and every process seen: killed at the end whatever happened. */
  private final List<Process> gateways = new ArrayList<>();

  private final List<ProcessHandle> seen = new ArrayList<>();

  @AfterEach
  void killEverything() throws InterruptedException {
    for (Process g : gateways) {
      g.destroyForcibly();
      g.waitFor();
    }
    seen.forEach(ProcessHandle::destroyForcibly);
  }

  /** A gateway process serving {@code functions} (manifest XML), logging to {@code log}. */
  private Process startGateway(String functions, Path log) throws IOException {
    Path manifest = Files.createTempFile(temp, "manifest", ".xml");
    Files.writeString(manifest, "<manifest version=\"1\">\n" + functions + "</manifest>\n");
    Path run = Files.createDirectories(temp.resolve("run"));
    List<String> command =
        new ArrayList<>(
            List.of(
                "python3",
                "-c",
                """
                import os, signal, sys
                signal.signal(signal.SIGINT, signal.SIG_DFL)
                os.setpgid(0, 0)
                os.execv(sys.argv[1], sys.argv[1:])
                """,
                TestManifests.java(),
                "--enable-native-access=ALL-UNNAMED",
                "-cp",
                System.getProperty("java.class.path"),
                "dev.locallambdas.cli.Main",
                "serve",
                manifest.toString(),
                "--bind",
                "127.0.0.1:0",
                "--drain-grace",
                "30s"));
    ProcessBuilder builder =
        new ProcessBuilder(command)
            .directory(temp.toFile())
            .redirectErrorStream(true)
            .redirectOutput(log.toFile())
            .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
    // Run directories go here, away from other test runs on the machine.
    builder.environment().put("XDG_RUNTIME_DIR", run.toString());
    Process gateway = builder.start();
    gateways.add(gateway);
    return gateway;
  }

  private static HttpTestClient awaitServing(Process gateway, Path log) {
    await("the gateway to log its address")
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(20))
        .failFast("the gateway exited: " + read(log), () -> !gateway.isAlive())
        .until(() -> SERVING.matcher(read(log)).find());
    Matcher m = SERVING.matcher(read(log));
    assertThat(m.find()).isTrue();
    return new HttpTestClient(new InetSocketAddress(m.group(1), Integer.parseInt(m.group(2))));
  }

  private static String read(Path file) {
    try {
      return Files.readString(file);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private static String cue(String id, String executableAndArgs, String... env) {
    String repo = TestManifests.repo().toString();
    StringBuilder sb = new StringBuilder();
    sb.append("  <function>\n    <id>").append(id).append("</id>\n");
    sb.append(executableAndArgs);
    sb.append("    <route>/").append(id).append("/*</route>\n");
    sb.append("    <env name=\"SDK_PYTHON\">").append(repo).append("/sdk/python</env>\n");
    sb.append("    <env name=\"CUE\">")
        .append(repo)
        .append("/gateway/src/test/resources/children/cue.py</env>\n");
    for (int i = 0; i + 1 < env.length; i += 2) {
      sb.append("    <env name=\"").append(env[i]).append("\">");
      sb.append(env[i + 1]).append("</env>\n");
    }
    sb.append("  </function>\n");
    return sb.toString();
  }

  /** A function whose shell script runs {@code script} and then execs the cue child. */
  private static String shellCue(String id, String script, String... env) {
    return cue(
        id,
        "    <executable>sh</executable>\n    <arg>-c</arg>\n    <arg>"
            + script
            + " exec python3 \"$CUE\"</arg>\n",
        env);
  }

  private ProcessHandle pidFrom(Path file) {
    await("pid file " + file)
        .atMost(Duration.ofSeconds(20))
        .until(() -> Files.exists(file) && read(file).endsWith("\n"));
    ProcessHandle p = ProcessHandle.of(Long.parseLong(read(file).strip())).orElseThrow();
    seen.add(p);
    return p;
  }

  private static boolean running(ProcessHandle p) {
    if (!p.isAlive()) {
      return false;
    }
    try {
      // A process re-parented to an init that does not reap stays a zombie: dead all the same.
      String stat = Files.readString(Path.of("/proc", Long.toString(p.pid()), "stat"));
      return stat.charAt(stat.lastIndexOf(')') + 2) != 'Z';
    } catch (IOException e) {
      return p.isAlive();
    }
  }

  private static void awaitGone(ProcessHandle... processes) {
    for (ProcessHandle p : processes) {
      await("process " + p.pid() + " to be gone")
          .atMost(Duration.ofSeconds(10))
          .until(() -> !running(p));
    }
  }

  private List<ProcessHandle> descendants(Process gateway) {
    try (Stream<ProcessHandle> d = gateway.toHandle().descendants()) {
      List<ProcessHandle> all = d.filter(ProcessIsolationTest::running).toList();
      seen.addAll(all);
      return all;
    }
  }

  /**
   * A terminal's Ctrl-C is SIGINT to its whole foreground process group. The children are not in
   * it: only the gateway gets it, drains the request that is inside a child, and then stops.
   */
  @Test
  void ctrlCInTheGatewaysTerminalLetsTheRequestInFlightFinish() throws Exception {
    Path requests = temp.resolve("requests.log");
    Path log = temp.resolve("gateway.log");
    Process gateway =
        startGateway(
            cue(
                "cue",
                "    <executable>python3</executable>\n    <arg>"
                    + TestManifests.child("cue.py")
                    + "</arg>\n",
                "CUE_LOG",
                requests.toString()),
            log);
    HttpTestClient http = awaitServing(gateway, log);
    assertThat(http.get("/cue/hello").statusCode()).isEqualTo(200);
    List<ProcessHandle> children = descendants(gateway);
    assertThat(children).isNotEmpty();

    try (ExecutorService client = Executors.newVirtualThreadPerTaskExecutor()) {
      Future<HttpResponse<String>> slow = client.submit(() -> http.get("/cue/sleep?ms=3000"));
      await("the request to be inside the child")
          .atMost(Duration.ofSeconds(20))
          .until(() -> Files.exists(requests) && read(requests).contains(" sleep"));

      new ProcessBuilder("sh", "-c", "kill -s INT -- -" + gateway.pid()).start().waitFor();

      HttpResponse<String> answer = slow.get(60, TimeUnit.SECONDS);
      assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
    }
    assertThat(gateway.waitFor(60, TimeUnit.SECONDS)).as(read(log)).isTrue();
    assertThat(read(log)).contains("stopped").doesNotContain("KeyboardInterrupt");
    awaitGone(children.toArray(ProcessHandle[]::new));
  }

  @Test
  void whatAFunctionStartedDiesWithTheGatewayKilledWithSigkill() throws Exception {
    Path log = temp.resolve("gateway.log");
    Process gateway = startGateway(shellCue("bg", "sleep 300 &amp;"), log);
    HttpTestClient http = awaitServing(gateway, log);
    assertThat(http.get("/bg/hello").statusCode()).isEqualTo(200);
    List<ProcessHandle> family = descendants(gateway);
    ProcessHandle sleep =
        family.stream()
            .filter(p -> p.info().command().orElse("").endsWith("sleep"))
            .findFirst()
            .orElseThrow(() -> new AssertionError("no sleep among " + family));
    ProcessHandle child = sleep.parent().orElseThrow();

    gateway.destroyForcibly(); // SIGKILL: no shutdown hook runs
    gateway.waitFor();

    awaitGone(child, sleep);
  }

  /**
   * A CGI program runs per request, but in the same care as every child: a session of its own (a
   * terminal's signals do not reach it), and nothing of it outlives a gateway killed with SIGKILL,
   * neither the program nor what it started.
   */
  @Test
  void aCgiProgramHasItsOwnSessionAndDiesWithTheGatewayKilledWithSigkill() throws Exception {
    Path log = temp.resolve("gateway.log");
    Path pids = temp.resolve("cgi.pids");
    Process gateway =
        startGateway(
            "  <function>\n    <id>cgi</id>\n    <protocol>cgi</protocol>\n"
                + "    <executable>sh</executable>\n    <arg>-c</arg>\n"
                + "    <arg>sleep 300 &amp; echo \"$$ $!\" &gt; "
                + pids
                + ".tmp; mv "
                + pids
                + ".tmp "
                + pids
                + "; wait</arg>\n"
                + "    <route>/cgi/*</route>\n  </function>\n",
            log);
    HttpTestClient http = awaitServing(gateway, log);
    Thread.ofVirtual()
        .start(
            () -> {
              try {
                http.get("/cgi/hang"); // in flight until the gateway dies
              } catch (IOException | InterruptedException e) {
                // expected: the gateway is killed under it
              }
            });
    await("the CGI program's pids").atMost(Duration.ofSeconds(20)).until(() -> Files.exists(pids));
    String[] both = read(pids).strip().split(" ", -1);
    ProcessHandle program = ProcessHandle.of(Long.parseLong(both[0])).orElseThrow();
    ProcessHandle sleep = ProcessHandle.of(Long.parseLong(both[1])).orElseThrow();
    seen.add(program);
    seen.add(sleep);
    assertThat(sessionOf(program.pid()))
        .as("the CGI program leads a session of its own")
        .isEqualTo(program.pid())
        .isNotEqualTo(sessionOf(gateway.pid()));

    gateway.destroyForcibly(); // SIGKILL: no shutdown hook runs
    gateway.waitFor();

    awaitGone(program, sleep);
  }

  private static long sessionOf(long pid) throws IOException {
    String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
    String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ", -1);
    return Long.parseLong(fields[3]); // state, ppid, pgrp, session
  }

  /**
   * An instance created by a fork template (ADR 0013) is the gateway's own child with its own
   * parent-death signal: stopped (so its SDK cannot react to the end of its socket) and with the
   * keeper gone (so nothing sweeps), it still dies when the gateway is killed.
   */
  @Test
  void aForkedInstanceDiesWithTheGatewayByItsParentDeathSignalAlone() throws Exception {
    Path log = temp.resolve("gateway.log");
    Process gateway =
        startGateway(
            cue(
                "cue",
                "    <executable>python3</executable>\n    <arg>"
                    + TestManifests.child("cue.py")
                    + "</arg>\n    <template/>\n"),
            log);
    HttpTestClient http = awaitServing(gateway, log);
    // The template starts with the gateway; an instance started before it was ready is plain, so
    // it is stopped until a forked one serves.
    await("an instance forked from the template")
        .atMost(Duration.ofSeconds(30))
        .until(
            () -> {
              assertThat(http.get("/cue/hello").statusCode()).isEqualTo(200);
              if (read(log).contains(", forked)")) {
                return true;
              }
              adminStop(log, "cue");
              return false;
            });
    List<ProcessHandle> children = descendants(gateway);
    ProcessHandle keeper =
        children.stream()
            .filter(
                p ->
                    p.info()
                        .arguments()
                        .map(a -> String.join(" ", a))
                        .orElse("")
                        .contains("keeper"))
            .findFirst()
            .orElseThrow(() -> new AssertionError("no keeper among " + children));
    String body = http.get("/cue/hello").body();
    int at = body.indexOf("\"pid\": ") + 7;
    int end = at;
    while (end < body.length() && Character.isDigit(body.charAt(end))) {
      end++;
    }
    long pid = Long.parseLong(body.substring(at, end));
    ProcessHandle instance = ProcessHandle.of(pid).orElseThrow();
    seen.add(instance);
    assertThat(instance.parent().map(ProcessHandle::pid)).hasValue(gateway.pid());

    new ProcessBuilder("kill", "-STOP", Long.toString(pid)).start().waitFor();
    keeper.destroyForcibly();
    awaitGone(keeper);
    gateway.destroyForcibly();
    gateway.waitFor();

    awaitGone(instance);
  }

  /**
   * An admin stop reaches a process orphaned inside the instance's process group (its parent
   * exited, so it is no longer a descendant of anything the gateway started).
   */
  @Test
  void adminStopTakesDownWhatTheInstanceLeftInItsProcessGroup() throws Exception {
    Path log = temp.resolve("gateway.log");
    Path pid = temp.resolve("orphan.pid");
    Process gateway =
        startGateway(
            shellCue(
                "orphaning",
                "(sleep 300 &amp; echo $! &gt; \"$ORPHAN\");",
                "ORPHAN",
                pid.toString()),
            log);
    HttpTestClient http = awaitServing(gateway, log);
    assertThat(http.get("/orphaning/hello").statusCode()).isEqualTo(200);
    ProcessHandle orphan = pidFrom(pid);
    assertThat(descendants(gateway)).doesNotContain(orphan);

    HttpResponse<String> stop = adminStop(log, "orphaning");
    assertThat(stop.statusCode()).as(stop.body()).isLessThan(300);

    awaitGone(orphan);
    gateway.destroy();
    assertThat(gateway.waitFor(60, TimeUnit.SECONDS)).isTrue();
  }

  /** POST /.local-lambdas/functions/ID/stop to the gateway whose log is {@code log}. */
  private static HttpResponse<String> adminStop(Path log, String id)
      throws IOException, InterruptedException {
    return HttpClient.newHttpClient()
        .send(
            HttpRequest.newBuilder(
                    URI.create(
                        "http://127.0.0.1:"
                            + portOf(log)
                            + "/.local-lambdas/functions/"
                            + id
                            + "/stop"))
                .POST(HttpRequest.BodyPublishers.noBody())
                .build(),
            HttpResponse.BodyHandlers.ofString());
  }

  private static int portOf(Path log) {
    Matcher m = SERVING.matcher(read(log));
    assertThat(m.find()).isTrue();
    return Integer.parseInt(m.group(2));
  }

  /**
   * A killed gateway leaves its run directory (and the socket a legacy-pipe child made in it); the
   * next gateway of the same user removes it, but not the directory of a gateway still running.
   */
  @Test
  void aLaterGatewayRemovesWhatAKilledOneLeftButNotALiveOnesFiles() throws Exception {
    String legacy =
        "  <function>\n"
            + "    <id>legacy</id>\n"
            + "    <executable>python3</executable>\n"
            + "    <arg>"
            + TestManifests.repo().resolve("examples/legacy/pipe_only_service.py")
            + "</arg>\n"
            + "    <route>/legacy/*</route>\n"
            + "    <protocol>legacy-pipe</protocol>\n"
            + "    <start>eager</start>\n"
            + "  </function>\n";
    Path liveLog = temp.resolve("live.log");
    Process live = startGateway(legacy, liveLog);
    awaitServing(live, liveLog);
    Path killedLog = temp.resolve("killed.log");
    Process killed = startGateway(legacy, killedLog);
    awaitServing(killed, killedLog);
    Path run = temp.resolve("run");
    await("both legacy children to listen on their sockets")
        .atMost(Duration.ofSeconds(20))
        .until(() -> sockets(run).size() == 2);
    assertThat(runDirectories(run)).hasSize(2);
    Path killedsDirectory = runDirectoryOf(killed);
    Path livesDirectory = runDirectoryOf(live);

    killed.destroyForcibly();
    killed.waitFor();
    assertThat(runDirectories(run)).as("left behind by the killed gateway").hasSize(2);

    Path laterLog = temp.resolve("later.log");
    Process later = startGateway(legacy.replace("<start>eager</start>", ""), laterLog);
    awaitServing(later, laterLog);

    assertThat(killedsDirectory).doesNotExist();
    assertThat(livesDirectory.resolve("legacy-1.sock")).exists();
    assertThat(runDirectories(run)).hasSize(2).contains(livesDirectory);
    assertThat(read(laterLog))
        .contains("removed 1 run directory left by gateways that were killed");

    for (Process g : List.of(live, later)) {
      g.destroy();
      assertThat(g.waitFor(60, TimeUnit.SECONDS)).isTrue();
    }
    assertThat(runDirectories(run)).isEmpty();
  }

  /** The run directory of a gateway, read from its legacy child's PIPE_ADDRESS. */
  private Path runDirectoryOf(Process gateway) throws IOException {
    for (ProcessHandle p : descendants(gateway)) {
      byte[] env = Files.readAllBytes(Path.of("/proc", Long.toString(p.pid()), "environ"));
      Matcher m =
          Pattern.compile("(?:^|\0)PIPE_ADDRESS=([^\0]*)")
              .matcher(new String(env, java.nio.charset.StandardCharsets.UTF_8));
      if (m.find()) {
        return Path.of(m.group(1)).getParent();
      }
    }
    throw new AssertionError("no child with PIPE_ADDRESS among " + descendants(gateway));
  }

  private static List<Path> runDirectories(Path base) throws IOException {
    try (Stream<Path> s = Files.list(base)) {
      return s.filter(p -> p.getFileName().toString().startsWith("ll-")).sorted().toList();
    }
  }

  private static List<Path> sockets(Path base) throws IOException {
    List<Path> out = new ArrayList<>();
    for (Path dir : runDirectories(base)) {
      try (Stream<Path> s = Files.list(dir)) {
        s.filter(p -> p.toString().endsWith(".sock")).forEach(out::add);
      }
    }
    return out;
  }

  /**
   * Exit time is measured by bench/exit-time.sh, not asserted: an idle gateway exits after SIGINT
   * and says so.
   */
  @Test
  void idleGatewayExitsAfterSigintAndLogsStopped() throws Exception {
    Path log = temp.resolve("gateway.log");
    Process gateway =
        startGateway(
            cue(
                "cue",
                "    <executable>python3</executable>\n    <arg>"
                    + TestManifests.child("cue.py")
                    + "</arg>\n"),
            log);
    HttpTestClient http = awaitServing(gateway, log);
    assertThat(http.get("/cue/hello").statusCode()).isEqualTo(200);

    new ProcessBuilder("kill", "-INT", Long.toString(gateway.pid())).start().waitFor();

    assertThat(gateway.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(gateway.exitValue()).isEqualTo(130); // 128 + SIGINT, after the shutdown hook ran
    assertThat(read(log)).contains("stopped").doesNotContain("ERROR");
  }
}
