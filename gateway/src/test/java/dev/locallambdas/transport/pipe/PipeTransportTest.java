package dev.locallambdas.transport.pipe;

import static dev.locallambdas.transport.pipe.FrameCodecTest.header;
import static dev.locallambdas.transport.pipe.PipeTestSupport.context;
import static dev.locallambdas.transport.pipe.PipeTestSupport.get;
import static org.assertj.core.api.Assertions.assertThat;

import dev.locallambdas.loops.EventLoops;
import dev.locallambdas.transport.CallRecorder;
import dev.locallambdas.transport.Outcome;
import dev.locallambdas.transport.TransportException;
import dev.locallambdas.transport.TransportException.Kind;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(60)
class PipeTransportTest {
  private static final Duration LONG = Duration.ofSeconds(30);

  @TempDir Path runDir;
  private final Deque<AutoCloseable> cleanup = new ArrayDeque<>();
  private static EventLoops loops;

  @BeforeAll
  static void startLoops() {
    loops = EventLoops.start(2);
  }

  @AfterAll
  static void stopLoops() {
    loops.close();
  }

  @AfterEach
  void cleanUp() throws Exception {
    while (!cleanup.isEmpty()) {
      cleanup.pop().close();
    }
  }

  private PipeEndpoint prepare(int concurrency) throws IOException {
    PipeEndpoint e =
        (PipeEndpoint) new PipeTransport().prepare(context(runDir, concurrency, loops, null));
    cleanup.push(e);
    return e;
  }

  private PipeFakeChild connect(PipeEndpoint e) throws IOException {
    PipeFakeChild c = PipeFakeChild.connect(e.environment().get("PIPE_ADDRESS"));
    cleanup.push(c);
    return c;
  }

  private TransportException notReady(PipeEndpoint e, Duration timeout, ProcessHandle process) {
    Throwable t =
        org.assertj.core.api.Assertions.catchThrowable(() -> e.awaitReady(timeout, process));
    assertThat(t).isInstanceOf(TransportException.class);
    TransportException te = (TransportException) t;
    assertThat(te.kind()).isEqualTo(Kind.NOT_READY);
    return te;
  }

  @Test
  void listensInTheRunDirectoryAndAnnouncesTheAddress() throws Exception {
    PipeEndpoint e = prepare(1);
    Path socket = runDir.resolve("echo-3.sock");
    // With a shared-memory segment for the instance (Linux), the child may offer to use it.
    assertThat(e.environment()).containsEntry("PIPE_ADDRESS", socket.toString());
    assertThat(e.environment()).containsKey("LOCAL_LAMBDAS_CAPABILITIES");
    assertThat(socket).exists();
  }

  @Test
  void welcomesAChildThatSaysHelloAndRemovesTheSocketFile() throws Exception {
    PipeEndpoint e = prepare(4);
    PipeFakeChild child = connect(e);
    child.hello(1, 1);
    e.awaitReady(LONG, ProcessHandle.current());

    assertThat(child.welcome()).isEqualTo(new FrameCodec.Welcome(1, 4, 1_048_576, "echo"));
    assertThat(runDir.resolve("echo-3.sock")).doesNotExist();
  }

  @Test
  void choosesVersionOnePointOneWhenTheChildOffersIt() throws Exception {
    PipeEndpoint e = prepare(2);
    PipeFakeChild child = connect(e);
    child.hello(1, 2);
    e.awaitReady(LONG, ProcessHandle.current());
    assertThat(child.welcome())
        .isEqualTo(new FrameCodec.Welcome(2, 2, 1_048_576, "echo", PipeHandshake.WINDOW, 0));
  }

  @Test
  void choosesTheHighestVersionBothSpeak() {
    assertThat(PipeHandshake.choose(new FrameCodec.Hello(1, 5, 1, "x", 0))).isEqualTo(2);
    assertThat(PipeHandshake.choose(new FrameCodec.Hello(1, 1, 1, "x"))).isEqualTo(1);
    assertThat(PipeHandshake.choose(new FrameCodec.Hello(2, 2, 1, "x", 0))).isEqualTo(2);
    assertThat(PipeHandshake.choose(new FrameCodec.Hello(3, 4, 1, "x", 0))).isZero();
  }

  @Test
  void failsFastWhenTheChildExitsBeforeConnecting() throws Exception {
    PipeEndpoint e = prepare(1);
    Process p = new ProcessBuilder("sh", "-c", "exit 3").start();
    cleanup.push(p::destroyForcibly);
    TransportException te = notReady(e, LONG, p.toHandle());
    assertThat(te).hasMessage("echo#3: child exited before connecting");
  }

  @Test
  void failsWhenTheChildDoesNotConnectInTime() throws Exception {
    PipeEndpoint e = prepare(1);
    TransportException te = notReady(e, Duration.ofMillis(200), ProcessHandle.current());
    assertThat(te).hasMessage("echo#3: child did not connect within 200ms");
  }

  @Test
  void failsWhenTheChildConnectsButStaysSilent() throws Exception {
    PipeEndpoint e = prepare(1);
    connect(e);
    TransportException te = notReady(e, Duration.ofMillis(200), ProcessHandle.current());
    assertThat(te).hasMessage("echo#3: child did not send HELLO within 200ms");
  }

  @Test
  void refusesAFirstFrameOtherThanHello() throws Exception {
    PipeEndpoint e = prepare(1);
    connect(e).sendRaw(header(0, FrameCodec.REQUEST_HEAD, 0, 1));
    assertThat(notReady(e, LONG, ProcessHandle.current()))
        .hasMessage("echo#3: child sent REQUEST_HEAD instead of HELLO");
  }

  @Test
  void refusesGarbage() throws Exception {
    PipeEndpoint e = prepare(1);
    connect(e).sendRaw("GET / HTTP/1.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
    assertThat(notReady(e, LONG, ProcessHandle.current()))
        .hasMessageContaining("child sent an invalid first frame: frame length 1195725856 exceeds");
  }

  @Test
  void refusesAMalformedHello() throws Exception {
    PipeEndpoint e = prepare(1);
    connect(e).sendRaw(FrameCodecTest.cat(header(3, FrameCodec.HELLO, 0, 0), new byte[3]));
    assertThat(notReady(e, LONG, ProcessHandle.current()))
        .hasMessageContaining("child sent an invalid HELLO: truncated HELLO max_version");
  }

  @Test
  void refusesAnOversizedHelloWithoutWaitingForIt() throws Exception {
    PipeEndpoint e = prepare(1);
    connect(e).sendRaw(header(1_000_000, FrameCodec.HELLO, 0, 0));
    assertThat(notReady(e, LONG, ProcessHandle.current()))
        .hasMessage("echo#3: child sent a HELLO of 1000000 bytes");
  }

  @Test
  void resetsAChildThatSpeaksOnlyOtherVersions() throws Exception {
    PipeEndpoint e = prepare(1);
    PipeFakeChild child = connect(e);
    child.hello(3, 4);
    assertThat(notReady(e, LONG, ProcessHandle.current()))
        .hasMessage("echo#3: child speaks protocol versions 3-4, gateway speaks 1-2");
    Frame reset = child.expect(FrameCodec.RESET);
    assertThat(reset.stream()).isZero();
    assertThat(FrameCodec.decodeReset(reset.payload().nioBuffer())).contains("gateway speaks 1-2");
    assertThat(child.read()).isNull();
  }

  @Test
  void failsWhenTheChildHangsUpBeforeHello() throws Exception {
    PipeEndpoint e = prepare(1);
    connect(e).close();
    assertThat(notReady(e, LONG, ProcessHandle.current()))
        .hasMessage("echo#3: child closed the connection before sending HELLO");
  }

  @Test
  void closeRemovesTheSocketFileAndIsIdempotent() throws Exception {
    PipeEndpoint e = prepare(1);
    e.close();
    e.close();
    assertThat(runDir.resolve("echo-3.sock")).doesNotExist();
    assertThat(notReady(e, LONG, ProcessHandle.current())).hasMessageContaining("endpoint closed");
  }

  @Test
  void refusesCallsBeforeItIsReadyOnALaterTurn() throws Exception {
    PipeEndpoint e = prepare(1);
    CallRecorder r = CallRecorder.open(e, get("/echo/x"), 0, loops.next()).await();
    assertThat(r.failure().kind()).isEqualTo(Kind.NOT_DELIVERED);
    assertThat(r.awaitRelease()).isEqualTo(Outcome.BROKEN);
    assertThat(r.violations()).isEmpty();
  }

  @Test
  void replacesAStaleSocketFileFromAnEarlierRun() throws Exception {
    Files.writeString(runDir.resolve("echo-3.sock"), "stale");
    PipeEndpoint e = prepare(1);
    PipeFakeChild child = connect(e);
    child.hello(1, 1);
    e.awaitReady(LONG, ProcessHandle.current());
    assertThat(child.welcome().function()).isEqualTo("echo");
  }
}
