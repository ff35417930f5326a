package dev.locallambdas.transport.pipe;

import static dev.locallambdas.transport.pipe.PipeTestSupport.context;
import static dev.locallambdas.transport.pipe.PipeTestSupport.get;
import static dev.locallambdas.transport.pipe.PipeTestSupport.post;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.locallambdas.exchange.Headers;
import dev.locallambdas.loops.EventLoops;
import dev.locallambdas.transport.CallRecorder;
import dev.locallambdas.transport.Outcome;
import dev.locallambdas.transport.TransportException;
import io.netty.channel.EventLoop;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Shared-memory bodies (protocol section 8) over a real pipe connection and a real memfd, against a
 * scripted child that maps the segment itself. Every test ends with the segment unmapped from the
 * gateway (no mapping of it left in /proc/self/maps).
 */
@Timeout(60)
class ShmPipeTest {
  private static final int SLOT = 1024 * 1024; // the default 64 MiB body limit's slot size
  private static EventLoops loops;
  private static EventLoop loop;

  @TempDir Path runDir;
  private final Deque<AutoCloseable> cleanup = new ArrayDeque<>();
  private PipeEndpoint endpoint;
  private PipeFakeChild child;
  private FrameCodec.Welcome welcome;
  private ByteBuffer segment;

  /** The test's own mapping of the segment (it plays the child), unmapped after each test. */
  private Arena childMapping;

  @BeforeAll
  static void startLoops() {
    loops = EventLoops.start(1);
    loop = loops.next();
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
    if (childMapping != null) {
      childMapping.close();
    }
    await("the gateway's mapping of the segment to go")
        .atMost(Duration.ofSeconds(10))
        .until(() -> gatewayMappings() == 0);
  }

  /** Mappings of local-lambdas segments in this JVM. */
  static long gatewayMappings() throws IOException {
    return Files.readAllLines(Path.of("/proc/self/maps")).stream()
        .filter(l -> l.contains("memfd:local-lambdas"))
        .count();
  }

  private void connect(int concurrency) throws Exception {
    endpoint =
        (PipeEndpoint) new PipeTransport().prepare(context(runDir, concurrency, loops, loop));
    cleanup.push(endpoint);
    child = PipeFakeChild.connect(endpoint.environment().get("PIPE_ADDRESS"));
    cleanup.push(child);
  }

  /** Connects, offers shared memory, maps the segment and attaches. */
  @SuppressWarnings("MustBeClosedChecker") // the child's mapping is closed in cleanUp
  private void ready(int concurrency) throws Exception {
    connect(concurrency);
    assertThat(endpoint.environment()).containsEntry("LOCAL_LAMBDAS_CAPABILITIES", "1");
    child.helloShm();
    endpoint.awaitReady(Duration.ofSeconds(30), ProcessHandle.current());
    welcome = child.welcome();
    assertThat(welcome.capabilities()).isEqualTo(FrameCodec.CAP_SHM);
    childMapping = Arena.ofShared();
    try (FileChannel ch =
        FileChannel.open(
            Path.of(welcome.segment()), StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      segment = ch.map(FileChannel.MapMode.READ_WRITE, 0, ch.size(), childMapping).asByteBuffer();
    }
    child.attach(0, "");
  }

  private CallRecorder open(dev.locallambdas.exchange.Request request) throws Exception {
    return CallRecorder.open(endpoint, request, 30_000, loop);
  }

  private static byte[] random(int n, long seed) {
    byte[] b = new byte[n];
    new Random(seed).nextBytes(b);
    return b;
  }

  private byte[] readSlot(int slot, int length) {
    byte[] b = new byte[length];
    segment.get(SharedSegment.DATA_OFFSET + slot * SLOT, b);
    return b;
  }

  private void writeSlot(int slot, byte[] bytes) {
    segment.put(SharedSegment.DATA_OFFSET + slot * SLOT, bytes);
  }

  private static FrameCodec.SlotRef ref(Frame f, boolean body) throws Exception {
    return FrameCodec.decodeSlotRef(f.payload().nioBuffer(), body);
  }

  @Test
  void aChildThatAsksGetsASealedSegmentWithItsLayoutAndTheThreshold() throws Exception {
    ready(1);
    String pid = Long.toString(ProcessHandle.current().pid());
    assertThat(welcome.segment()).startsWith("/proc/" + pid + "/fd/");
    assertThat(welcome.threshold()).isEqualTo(PipeEndpoint.AUTO_THRESHOLD);
    assertThat(segment.getInt(0)).isEqualTo(SharedSegment.MAGIC);
    assertThat(segment.getInt(4)).isEqualTo(1);
    assertThat(segment.getInt(8)).isEqualTo(4096);
    assertThat(segment.getInt(12)).isEqualTo(SLOT);
    assertThat(segment.getShort(16)).isEqualTo((short) 1);
    assertThat(segment.getShort(18)).isEqualTo((short) 1);
    assertThat(segment.capacity()).isEqualTo(4096 + 2 * SLOT);
    // Sealed: the child cannot shrink the memory under the gateway's mapping.
    try (FileChannel ch = FileChannel.open(Path.of(welcome.segment()), StandardOpenOption.WRITE)) {
      assertThatThrownBy(() -> ch.truncate(4096)).isInstanceOf(IOException.class);
    } catch (java.nio.file.NoSuchFileException e) {
      // The attach already closed the descriptor: nobody can open it any more, which is fine.
    }
    // Once attached, the path is gone: the descriptor behind it is closed.
    await().atMost(Duration.ofSeconds(10)).until(() -> !Files.exists(Path.of(welcome.segment())));
    assertThat(gatewayMappings()).isEqualTo(2); // the gateway's and the test's own (the child's)
  }

  @Test
  void aChildThatDoesNotAskGetsNoSegmentAndTheGatewayUnmapsIt() throws Exception {
    connect(1);
    child.hello(1, 2);
    endpoint.awaitReady(Duration.ofSeconds(30), ProcessHandle.current());
    FrameCodec.Welcome w = child.welcome();
    assertThat(w.capabilities()).isZero();
    assertThat(w.segment()).isNull();
    await().atMost(Duration.ofSeconds(10)).until(() -> gatewayMappings() == 0);
  }

  @Test
  void aLargeRequestBodyGoesThroughTheSlotPieceByPieceWaitingForEachRelease() throws Exception {
    ready(1);
    byte[] body = random(2 * SLOT + 12345, 1);
    CallRecorder call = open(post("/echo/x", body.length));
    for (int at = 0; at < body.length; at += 65536) {
      byte[] piece = java.util.Arrays.copyOfRange(body, at, Math.min(body.length, at + 65536));
      call.send(piece, at + 65536 >= body.length);
    }
    Frame head = child.expect(FrameCodec.REQUEST_HEAD);
    java.io.ByteArrayOutputStream got = new java.io.ByteArrayOutputStream();
    long generation = 0;
    boolean end = false;
    while (!end) {
      Frame f = child.expect(FrameCodec.SHM_BODY);
      assertThat(f.stream()).isEqualTo(head.stream());
      FrameCodec.SlotRef r = ref(f, true);
      assertThat(r.slot()).isZero();
      assertThat(r.generation()).isEqualTo(generation);
      got.writeBytes(readSlot(0, r.length()));
      end = f.endStream();
      child.shmRelease(0, generation++);
    }
    assertThat(got.toByteArray()).isEqualTo(body);
    assertThat(generation).isEqualTo(3);
    child.respond(
        head.stream(),
        200,
        Headers.empty(),
        "ok".getBytes(java.nio.charset.StandardCharsets.UTF_8));
    assertThat(call.await().bodyText()).isEqualTo("ok");
    assertThat(call.awaitRelease()).isEqualTo(Outcome.OK);
  }

  @Test
  void aSmallRequestBodyStaysInFrames() throws Exception {
    ready(1);
    CallRecorder call = open(post("/echo/x", 1000));
    call.send(new byte[1000], true);
    PipeFakeChild.Received r = child.request();
    assertThat(r.body()).hasSize(1000);
    child.respond(r.id(), 204, Headers.empty(), new byte[0]);
    assertThat(call.awaitRelease()).isEqualTo(Outcome.OK);
  }

  @Test
  void aResponseInTheChildsSlotReachesTheClientAndIsReleasedAfterwards() throws Exception {
    ready(1);
    for (int round = 0; round < 3; round++) {
      byte[] body = random(300_000 + round, round);
      CallRecorder call = open(get("/echo/x"));
      Frame head = child.expect(FrameCodec.REQUEST_HEAD);
      writeSlot(1, body);
      child.head(head.stream(), 200, Headers.empty(), false);
      child.shmBody(head.stream(), 1, round, body.length, true);
      call.await();
      assertThat(call.failure()).isNull();
      assertThat(call.contentLength()).isEqualTo(body.length);
      assertThat(call.bodyBytes()).isEqualTo(body);
      assertThat(call.awaitRelease()).isEqualTo(Outcome.OK);
      Frame release = child.expect(FrameCodec.SHM_RELEASE);
      assertThat(ref(release, false)).isEqualTo(new FrameCodec.SlotRef(1, round, 0));
    }
  }

  @Test
  void aDoorbellWithAWrongGenerationFailsTheCallAsAProtocolError() throws Exception {
    ready(1);
    CallRecorder call = open(get("/echo/x"));
    Frame head = child.expect(FrameCodec.REQUEST_HEAD);
    child.head(head.stream(), 200, Headers.empty(), false);
    child.shmBody(head.stream(), 1, 7, 10, true);
    call.await();
    assertThat(call.failure().kind()).isEqualTo(TransportException.Kind.PROTOCOL);
    assertThat(call.failure()).hasMessageContaining("generation 7");
    assertThat(call.awaitRelease()).isEqualTo(Outcome.BROKEN);
    assertThat(child.read()).isNull(); // the gateway closed the connection
  }

  @Test
  void aReleaseOfASlotTheGatewayNeverSentIsAProtocolError() throws Exception {
    ready(1);
    CallRecorder call = open(get("/echo/x"));
    child.expect(FrameCodec.REQUEST_HEAD);
    child.shmRelease(0, 0);
    call.await();
    assertThat(call.failure().kind()).isEqualTo(TransportException.Kind.PROTOCOL);
    assertThat(call.awaitRelease()).isEqualTo(Outcome.BROKEN);
  }

  @Test
  void anythingBeforeTheAttachIsAProtocolError() throws Exception {
    connect(1);
    child.helloShm();
    endpoint.awaitReady(Duration.ofSeconds(30), ProcessHandle.current());
    child.welcome();
    CallRecorder call = open(get("/echo/x"));
    Frame head = child.expect(FrameCodec.REQUEST_HEAD);
    child.head(head.stream(), 204, Headers.empty(), true);
    call.await();
    assertThat(call.failure().kind()).isEqualTo(TransportException.Kind.PROTOCOL);
    assertThat(call.failure()).hasMessageContaining("before its SHM_ATTACH");
  }

  @Test
  void aChildThatCannotMapKeepsWorkingWithFrames() throws Exception {
    connect(1);
    child.helloShm();
    endpoint.awaitReady(Duration.ofSeconds(30), ProcessHandle.current());
    child.welcome();
    child.attach(1, "no mmap here");
    CallRecorder call = open(post("/echo/x", 200_000));
    call.send(new byte[200_000], true);
    PipeFakeChild.Received r = child.request(); // frames only: request() refuses SHM_BODY
    assertThat(r.body()).hasSize(200_000);
    child.respond(
        r.id(), 200, Headers.empty(), "fine".getBytes(java.nio.charset.StandardCharsets.UTF_8));
    assertThat(call.await().bodyText()).isEqualTo("fine");
  }

  @Test
  void aCancelledRequestsSlotStaysTheChildsUntilItReleasesIt() throws Exception {
    ready(1);
    byte[] body = random(200_000, 3);
    CallRecorder call = open(post("/echo/x", body.length));
    call.send(body, true);
    Frame head = child.expect(FrameCodec.REQUEST_HEAD);
    Frame doorbell = child.expect(FrameCodec.SHM_BODY);
    assertThat(ref(doorbell, true).length()).isEqualTo(body.length);
    call.cancel(dev.locallambdas.transport.Call.Cancel.CLIENT_GONE);
    assertThat(child.expect(FrameCodec.RESET).stream()).isEqualTo(head.stream());
    child.reset(head.stream(), "cancelled");
    assertThat(call.awaitRelease()).isEqualTo(Outcome.FAILED);
    // The slot is still SENT: the next request's body goes in frames until the release.
    CallRecorder second = open(post("/echo/y", body.length));
    second.send(body, true);
    PipeFakeChild.Received r = child.request();
    assertThat(r.body()).isEqualTo(body);
    child.shmRelease(0, 0);
    child.respond(r.id(), 204, Headers.empty(), new byte[0]);
    assertThat(second.awaitRelease()).isEqualTo(Outcome.OK);
    // Released: the third one uses the slot again, at the next generation.
    CallRecorder third = open(post("/echo/z", body.length));
    third.send(body, true);
    child.expect(FrameCodec.REQUEST_HEAD);
    assertThat(ref(child.expect(FrameCodec.SHM_BODY), true).generation()).isEqualTo(1);
  }
}
