package dev.locallambdas.transport;

import static dev.locallambdas.transport.FrameCodecTest.cat;
import static dev.locallambdas.transport.FrameCodecTest.header;
import static dev.locallambdas.transport.PipeTestSupport.chunked;
import static dev.locallambdas.transport.PipeTestSupport.context;
import static dev.locallambdas.transport.PipeTestSupport.get;
import static dev.locallambdas.transport.PipeTestSupport.post;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

import dev.locallambdas.exchange.BodySource;
import dev.locallambdas.exchange.ClientGoneException;
import dev.locallambdas.exchange.Headers;
import dev.locallambdas.transport.PipeFakeChild.Received;
import dev.locallambdas.transport.PipeTestSupport.CollectingSink;
import dev.locallambdas.transport.PipeTestSupport.CountingSink;
import dev.locallambdas.transport.TransportException.Kind;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import java.util.zip.CRC32;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

@Timeout(60)
class PipeExchangeTest {
  @TempDir Path runDir;
  private final Deque<AutoCloseable> cleanup = new ArrayDeque<>();
  private PipeEndpoint endpoint;
  private PipeFakeChild child;

  interface Script {
    void run(PipeFakeChild child) throws Exception;
  }

  @AfterEach
  void cleanUp() throws Exception {
    while (!cleanup.isEmpty()) {
      cleanup.pop().close();
    }
  }

  private void ready(int concurrency) throws Exception {
    endpoint = new PipeTransport().prepare(context(runDir, concurrency));
    cleanup.push(endpoint);
    child = PipeFakeChild.connect(endpoint.environment().get("PIPE_ADDRESS"));
    cleanup.push(child);
    child.hello(1, 1);
    endpoint.awaitReady(Duration.ofSeconds(30), ProcessHandle.current());
    child.welcome();
  }

  /** Runs the child's side on its own thread; join() rethrows what went wrong there. */
  private CompletableFuture<Void> childDoes(Script script) {
    CompletableFuture<Void> done = new CompletableFuture<>();
    Thread.ofVirtual()
        .name("fake-child")
        .start(
            () -> {
              try {
                script.run(child);
                done.complete(null);
              } catch (Throwable t) {
                done.completeExceptionally(t);
                try {
                  child.close(); // so that the gateway side fails now instead of at the timeout
                } catch (IOException e) {
                  t.addSuppressed(e);
                }
              }
            });
    return done;
  }

  private static byte[] text(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static Kind kindOf(Throwable t) {
    assertThat(t).isInstanceOf(TransportException.class);
    return ((TransportException) t).kind();
  }

  // ---------------------------------------------------------------- happy paths

  @Test
  void getSendsTheHeadAndDeliversAKnownLengthResponse() throws Exception {
    ready(1);
    AtomicReference<Received> seen = new AtomicReference<>();
    CompletableFuture<Void> c =
        childDoes(
            ch -> {
              Received r = ch.request();
              seen.set(r);
              ch.respond(
                  r.id(),
                  200,
                  Headers.builder()
                      .add("Content-Type", "text/plain")
                      .add("Content-Length", "999")
                      .add("Connection", "close")
                      .add("X-Trace", "abc")
                      .build(),
                  text("hello"));
            });
    CollectingSink sink = new CollectingSink();
    endpoint.exchange(get("/echo/items"), sink);
    c.join();

    Received r = seen.get();
    assertThat(r.id()).isNotZero();
    assertThat(r.method()).isEqualTo("GET");
    assertThat(r.target()).isEqualTo("/echo/items");
    assertThat(r.headers().get("x-forwarded-for")).isEqualTo("10.0.0.1");
    assertThat(r.chunks()).isEmpty(); // a single REQUEST_HEAD with END_STREAM
    assertThat(sink.status).isEqualTo(200);
    assertThat(sink.contentLength).isEqualTo(5);
    assertThat(sink.headers.toString())
        .isEqualTo("Headers[content-type: text/plain, x-trace: abc]");
    assertThat(sink.text()).isEqualTo("hello");
    assertThat(sink.ended).isTrue();
  }

  @Test
  void sendsTheQueryWithTheTarget() throws Exception {
    ready(1);
    AtomicReference<String> target = new AtomicReference<>();
    CompletableFuture<Void> c =
        childDoes(
            ch -> {
              Received r = ch.request();
              target.set(r.target());
              ch.respond(r.id(), 204, Headers.empty(), new byte[0]);
            });
    endpoint.exchange(
        new dev.locallambdas.exchange.Request(
            "GET", "/echo/a", "x=1&y=%20", Headers.empty(), BodySource.empty(), null),
        new CollectingSink());
    c.join();
    assertThat(target.get()).isEqualTo("/echo/a?x=1&y=%20");
  }

  @Test
  void aHeadWithEndStreamIsAnEmptyBodyOfKnownLength() throws Exception {
    ready(1);
    CompletableFuture<Void> c =
        childDoes(ch -> ch.head(ch.request().id(), 204, Headers.empty(), true));
    CollectingSink sink = new CollectingSink();
    endpoint.exchange(get("/echo/x"), sink);
    c.join();
    assertThat(sink.status).isEqualTo(204);
    assertThat(sink.contentLength).isZero();
    assertThat(sink.chunks).isEmpty();
    assertThat(sink.ended).isTrue();
  }

  @Test
  void aResponseInSeveralFramesStreamsWithUnknownLength() throws Exception {
    ready(1);
    CompletableFuture<Void> c =
        childDoes(
            ch -> {
              int id = ch.request().id();
              ch.head(id, 200, Headers.empty(), false);
              ch.body(id, text("ab"), false);
              ch.body(id, text("cd"), false);
              ch.body(id, new byte[0], true);
            });
    CollectingSink sink = new CollectingSink();
    endpoint.exchange(get("/echo/x"), sink);
    c.join();
    assertThat(sink.contentLength).isEqualTo(-1);
    assertThat(sink.text()).isEqualTo("abcd");
    assertThat(sink.chunks).containsExactly(2, 2);
    assertThat(sink.ended).isTrue();
  }

  @Test
  void echoesAFiveMegabytePostByteExactInChunksOfAtMost64KiB() throws Exception {
    ready(1);
    byte[] body = new byte[5 * 1024 * 1024 + 17];
    new Random(7).nextBytes(body);
    List<Integer> frameSizes = new ArrayList<>();
    CompletableFuture<Void> c =
        childDoes(
            ch -> {
              // A streaming echo: answers each body frame as it arrives, before the body ends.
              Frame head = ch.expect(FrameCodec.REQUEST_HEAD);
              int id = head.stream();
              ch.head(
                  id, 200, Headers.builder().add("content-type", "application/x").build(), false);
              boolean end = false;
              while (!end) {
                Frame f = ch.expect(FrameCodec.REQUEST_BODY);
                frameSizes.add(f.payload().remaining());
                end = f.endStream();
                ch.body(id, f.payload(), end);
              }
            });
    CollectingSink sink = new CollectingSink();
    endpoint.exchange(
        post(
            "/echo/upload",
            chunked(
                body, true, new int[] {100_000, 70_000, 10, 65_536}, new boolean[] {false, true})),
        sink);
    c.join();

    assertThat(sink.body.toByteArray()).isEqualTo(body);
    assertThat(frameSizes).allSatisfy(n -> assertThat(n).isBetween(1, 65_536));
    assertThat(frameSizes.stream().mapToLong(Integer::longValue).sum()).isEqualTo(body.length);
    assertThat(sink.contentLength).isEqualTo(-1);
  }

  @Test
  void aChildMayAnswerBeforeReadingTheBody() throws Exception {
    ready(1);
    byte[] body = new byte[3 * 1024 * 1024];
    CompletableFuture<Void> c =
        childDoes(
            ch -> {
              int id = ch.expect(FrameCodec.REQUEST_HEAD).stream();
              ch.respond(id, 413, Headers.empty(), text("too big"));
              // Whatever body was already on its way, then a RESET or the body's end.
              Frame f;
              do {
                f = ch.read();
              } while (f.type() == FrameCodec.REQUEST_BODY && !f.endStream());
              assertThat(f.stream()).isEqualTo(id);
            });
    CollectingSink sink = new CollectingSink();
    endpoint.exchange(
        post("/echo/x", chunked(body, true, new int[] {65_536}, new boolean[] {false})), sink);
    c.join();
    assertThat(sink.status).isEqualTo(413);
    assertThat(sink.text()).isEqualTo("too big");
  }

  @Test
  void aBodyOfUnknownLengthEndsWithAnEmptyFrame() throws Exception {
    ready(1);
    AtomicReference<Received> seen = new AtomicReference<>();
    CompletableFuture<Void> c =
        childDoes(
            ch -> {
              Received r = ch.request();
              seen.set(r);
              ch.respond(r.id(), 200, Headers.empty(), r.body());
            });
    CollectingSink sink = new CollectingSink();
    endpoint.exchange(
        post("/echo/x", chunked(text("abcd"), false, new int[] {2}, new boolean[] {false})), sink);
    c.join();
    assertThat(seen.get().chunks()).containsExactly(2, 2, 0);
    assertThat(sink.text()).isEqualTo("abcd");
    assertThat(sink.contentLength).isEqualTo(4);
  }

  @Test
  void anEmptyBodyOfUnknownLengthIsOneEmptyFinalFrame() throws Exception {
    ready(1);
    AtomicReference<Received> seen = new AtomicReference<>();
    CompletableFuture<Void> c =
        childDoes(
            ch -> {
              Received r = ch.request();
              seen.set(r);
              ch.respond(r.id(), 200, Headers.empty(), new byte[0]);
            });
    endpoint.exchange(
        post("/echo/x", chunked(new byte[0], false, new int[] {1}, new boolean[] {false})),
        new CollectingSink());
    c.join();
    assertThat(seen.get().chunks()).containsExactly(0);
  }

  @Test
  void streamsATwentyMegabyteResponseThroughWithoutHoldingIt() throws Exception {
    ready(1);
    byte[] block = new byte[FrameCodec.BODY_CHUNK];
    new Random(3).nextBytes(block);
    int blocks = 20 * 1024 * 1024 / block.length;
    CRC32 expected = new CRC32();
    for (int i = 0; i < blocks; i++) {
      expected.update(block);
    }
    CompletableFuture<Void> c =
        childDoes(
            ch -> {
              int id = ch.request().id();
              ch.head(id, 200, Headers.empty(), false);
              for (int i = 0; i < blocks; i++) {
                ch.body(id, block, false);
              }
              ch.body(id, new byte[0], true);
            });
    CountingSink sink = new CountingSink();
    endpoint.exchange(get("/echo/big"), sink);
    c.join();
    assertThat(sink.contentLength).isEqualTo(-1);
    assertThat(sink.bytes).isEqualTo(20L * 1024 * 1024);
    assertThat(sink.largestChunk).isEqualTo(FrameCodec.BODY_CHUNK);
    assertThat(sink.crc.getValue()).isEqualTo(expected.getValue());
    assertThat(sink.ended).isTrue();
  }

  @Test
  void fourConcurrentExchangesInterleaveOnOneConnection() throws Exception {
    ready(4);
    CompletableFuture<Void> c =
        childDoes(
            ch -> {
              // Collect all four before answering any, then answer in reverse order, interleaved.
              List<Received> rs = new ArrayList<>();
              for (int i = 0; i < 4; i++) {
                rs.add(ch.request());
              }
              for (Received r : rs.reversed()) {
                ch.head(r.id(), 200, Headers.empty(), false);
              }
              for (Received r : rs) {
                ch.body(r.id(), text(r.target() + " part1 "), false);
              }
              for (Received r : rs.reversed()) {
                ch.body(r.id(), text(r.target() + " part2"), true);
              }
            });
    List<CompletableFuture<CollectingSink>> calls = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      String path = "/echo/" + i;
      CompletableFuture<CollectingSink> f = new CompletableFuture<>();
      Thread.ofVirtual()
          .start(
              () -> {
                try {
                  CollectingSink sink = new CollectingSink();
                  endpoint.exchange(get(path), sink);
                  f.complete(sink);
                } catch (Throwable t) {
                  f.completeExceptionally(t);
                }
              });
      calls.add(f);
    }
    c.join();
    for (int i = 0; i < 4; i++) {
      CollectingSink sink = calls.get(i).get(30, TimeUnit.SECONDS);
      assertThat(sink.text()).isEqualTo("/echo/" + i + " part1 /echo/" + i + " part2");
      assertThat(sink.contentLength).isEqualTo(-1);
    }
  }

  @Test
  void servesManyRequestsInSequenceWithFreshIds() throws Exception {
    ready(1);
    List<Integer> ids = new ArrayList<>();
    CompletableFuture<Void> c =
        childDoes(
            ch -> {
              for (int i = 0; i < 50; i++) {
                Received r = ch.request();
                ids.add(r.id());
                ch.respond(r.id(), 200, Headers.empty(), text("n" + i));
              }
            });
    for (int i = 0; i < 50; i++) {
      CollectingSink sink = new CollectingSink();
      endpoint.exchange(get("/echo/" + i), sink);
      assertThat(sink.text()).isEqualTo("n" + i);
    }
    c.join();
    assertThat(ids).doesNotHaveDuplicates().doesNotContain(0);
  }

  // ---------------------------------------------------------------- a child that misbehaves

  /** Waits for the request (so that it was delivered), then sends these bytes. */
  private static void answer(PipeFakeChild ch, byte[] bytes) throws IOException {
    ch.request();
    ch.sendRaw(bytes);
  }

  static Stream<Arguments> misbehaviour() {
    return Stream.<Arguments>of(
        Arguments.of(
            "garbage bytes",
            (Script) ch -> answer(ch, text("HTTP/1.1 200 OK\r\n\r\n")),
            Kind.PROTOCOL,
            "exceeds the maximum payload"),
        Arguments.of(
            "oversized length",
            (Script) ch -> answer(ch, header(FrameCodec.MAX_PAYLOAD + 1, 0x21, 0, 1)),
            Kind.PROTOCOL,
            "frame length 1048577 exceeds"),
        Arguments.of(
            "unknown type",
            (Script) ch -> answer(ch, header(0, 0x45, 0, 1)),
            Kind.PROTOCOL,
            "unknown frame type 0x45"),
        Arguments.of(
            "reserved flag",
            (Script) ch -> answer(ch, header(0, 0x21, 0x80, 1)),
            Kind.PROTOCOL,
            "reserved flag bits 0x80"),
        Arguments.of(
            "invalid status",
            (Script) ch -> ch.head(ch.request().id(), 700, Headers.empty(), true),
            Kind.PROTOCOL,
            "invalid response status 700"),
        Arguments.of(
            "status 101",
            (Script) ch -> ch.head(ch.request().id(), 101, Headers.empty(), true),
            Kind.PROTOCOL,
            "invalid response status 101"),
        Arguments.of(
            "CR in a header value",
            (Script)
                ch ->
                    ch.head(
                        ch.request().id(),
                        200,
                        Headers.builder().add("x", "a\r\nSet-Cookie: evil").build(),
                        true),
            Kind.PROTOCOL,
            "control character 0x0d"),
        Arguments.of(
            "body before head",
            (Script) ch -> ch.body(ch.request().id(), text("x"), true),
            Kind.PROTOCOL,
            "RESPONSE_BODY before RESPONSE_HEAD"),
        Arguments.of(
            "second head",
            (Script)
                ch -> {
                  int id = ch.request().id();
                  ch.head(id, 200, Headers.empty(), false);
                  ch.head(id, 200, Headers.empty(), false);
                },
            Kind.PROTOCOL,
            "second RESPONSE_HEAD"),
        Arguments.of(
            "unknown request id",
            (Script) ch -> ch.head(ch.request().id() + 1000, 200, Headers.empty(), true),
            Kind.PROTOCOL,
            "for unknown request"),
        Arguments.of(
            "HELLO again",
            (Script)
                ch -> {
                  ch.request();
                  ch.hello(1, 1);
                },
            Kind.PROTOCOL,
            "HELLO after the handshake"),
        Arguments.of(
            "request frame from the child",
            (Script) ch -> ch.sendRaw(header(0, FrameCodec.REQUEST_BODY, 1, ch.request().id())),
            Kind.PROTOCOL,
            "which only the gateway sends"),
        Arguments.of(
            "RESET before the head",
            (Script) ch -> ch.reset(ch.request().id(), "handler threw\nNullPointerException"),
            Kind.RESET,
            "child reset the request: handler threw NullPointerException"),
        Arguments.of(
            "RESET after the head",
            (Script)
                ch -> {
                  int id = ch.request().id();
                  ch.head(id, 200, Headers.empty(), false);
                  ch.body(id, text("partial"), false);
                  ch.reset(id, "");
                },
            Kind.RESET,
            "child reset the request"),
        Arguments.of(
            "close mid-body",
            (Script)
                ch -> {
                  int id = ch.request().id();
                  ch.head(id, 200, Headers.empty(), false);
                  ch.body(id, text("partial"), false);
                  ch.close();
                },
            Kind.CHILD_FAILED,
            "child closed the connection"),
        Arguments.of(
            "close mid-frame",
            (Script)
                ch -> {
                  int id = ch.request().id();
                  ch.head(id, 200, Headers.empty(), false);
                  ch.sendRaw(cat(header(10, 0x21, 1, id), text("abc")));
                  ch.close();
                },
            Kind.CHILD_FAILED,
            "in the middle of a frame"),
        Arguments.of(
            "close before answering",
            (Script)
                ch -> {
                  ch.request();
                  ch.close();
                },
            Kind.CHILD_FAILED,
            "child closed the connection"),
        Arguments.of(
            "connection RESET",
            (Script)
                ch -> {
                  ch.request();
                  ch.reset(0, "shutting down");
                },
            Kind.CHILD_FAILED,
            "child reset the connection: shutting down"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("misbehaviour")
  void classifiesWhatTheChildGotWrong(String name, Script script, Kind kind, String message)
      throws Exception {
    ready(1);
    CompletableFuture<Void> c = childDoes(script);
    CollectingSink sink = new CollectingSink();
    Throwable t = catchThrowable(() -> endpoint.exchange(get("/echo/x"), sink));
    c.join();
    assertThat(kindOf(t)).isEqualTo(kind);
    assertThat(t).hasMessageContaining(message);
    if (kind.breaksInstance()) {
      // The connection is gone: the next request was never delivered and may be retried elsewhere.
      Throwable next =
          catchThrowable(() -> endpoint.exchange(get("/echo/y"), new CollectingSink()));
      assertThat(kindOf(next)).isEqualTo(Kind.NOT_DELIVERED);
    }
  }

  @Test
  void aResetRequestLeavesTheConnectionUsable() throws Exception {
    ready(1);
    CompletableFuture<Void> c =
        childDoes(
            ch -> {
              ch.reset(ch.request().id(), "no");
              Received r = ch.request();
              ch.respond(r.id(), 200, Headers.empty(), text("fine"));
            });
    CollectingSink failed = new CollectingSink();
    assertThat(kindOf(catchThrowable(() -> endpoint.exchange(get("/echo/1"), failed))))
        .isEqualTo(Kind.RESET);
    assertThat(failed.committed()).isFalse();
    CollectingSink sink = new CollectingSink();
    endpoint.exchange(get("/echo/2"), sink);
    c.join();
    assertThat(sink.text()).isEqualTo("fine");
  }

  @Test
  void aResetAfterTheHeadLeavesTheSinkCommitted() throws Exception {
    ready(1);
    CompletableFuture<Void> c =
        childDoes(
            ch -> {
              int id = ch.request().id();
              ch.head(id, 200, Headers.empty(), false);
              ch.body(id, text("part"), false);
              ch.reset(id, "crashed");
            });
    CollectingSink sink = new CollectingSink();
    Throwable t = catchThrowable(() -> endpoint.exchange(get("/echo/x"), sink));
    c.join();
    assertThat(kindOf(t)).isEqualTo(Kind.RESET);
    assertThat(sink.committed()).isTrue();
    assertThat(sink.ended).isFalse();
  }

  // ---------------------------------------------------------------- the gateway gives up

  @Test
  void anInterruptedExchangeResetsTheRequestAndIgnoresLateFrames() throws Exception {
    ready(1);
    AtomicReference<Throwable> failure = new AtomicReference<>();
    AtomicReference<Boolean> stillInterrupted = new AtomicReference<>();
    Thread caller =
        Thread.ofVirtual()
            .start(
                () -> {
                  try {
                    endpoint.exchange(get("/echo/slow"), new CollectingSink());
                  } catch (Throwable t) {
                    failure.set(t);
                    stillInterrupted.set(Thread.currentThread().isInterrupted());
                  }
                });
    Received r = child.request();
    await().atMost(Duration.ofSeconds(30)).until(() -> caller.getState() == Thread.State.WAITING);
    caller.interrupt();

    Frame reset = child.expect(FrameCodec.RESET);
    assertThat(reset.stream()).isEqualTo(r.id());
    caller.join();
    assertThat(failure.get()).isInstanceOf(InterruptedIOException.class);
    assertThat(stillInterrupted.get()).isTrue();

    // The child answers the abandoned request anyway, then serves the next one.
    child.respond(r.id(), 200, Headers.empty(), text("too late"));
    CompletableFuture<Void> c =
        childDoes(
            ch -> {
              Received next = ch.request();
              assertThat(next.id()).isNotEqualTo(r.id());
              ch.respond(next.id(), 200, Headers.empty(), text("on time"));
            });
    CollectingSink sink = new CollectingSink();
    endpoint.exchange(get("/echo/next"), sink);
    c.join();
    assertThat(sink.text()).isEqualTo("on time");
  }

  @Test
  void aClientThatGoesAwayResetsTheRequest() throws Exception {
    ready(1);
    CompletableFuture<Void> c =
        childDoes(
            ch -> {
              int id = ch.request().id();
              ch.head(id, 200, Headers.empty(), false);
              ch.body(id, text("first"), false);
              Frame reset = ch.expect(FrameCodec.RESET);
              assertThat(reset.stream()).isEqualTo(id);
              ch.body(id, text("late"), true); // in flight already: ignored
              Received r = ch.request();
              ch.respond(r.id(), 200, Headers.empty(), text("ok"));
            });
    CollectingSink gone =
        new CollectingSink() {
          @Override
          public void body(ByteBuffer chunk) throws ClientGoneException {
            throw new ClientGoneException("client closed the connection");
          }
        };
    Throwable t = catchThrowable(() -> endpoint.exchange(get("/echo/x"), gone));
    assertThat(t).isInstanceOf(ClientGoneException.class);
    CollectingSink sink = new CollectingSink();
    endpoint.exchange(get("/echo/y"), sink);
    c.join();
    assertThat(sink.text()).isEqualTo("ok");
  }

  @Test
  void aFailingRequestBodyResetsTheRequest() throws Exception {
    ready(1);
    CompletableFuture<Void> c =
        childDoes(
            ch -> {
              Frame head = ch.expect(FrameCodec.REQUEST_HEAD);
              Frame reset = ch.expect(FrameCodec.RESET);
              assertThat(reset.stream()).isEqualTo(head.stream());
            });
    BodySource broken =
        new BodySource() {
          @Override
          public long length() {
            return 100;
          }

          @Override
          public ByteBuffer next() throws IOException {
            throw new ClientGoneException("client went away mid-upload");
          }
        };
    Throwable t =
        catchThrowable(() -> endpoint.exchange(post("/echo/x", broken), new CollectingSink()));
    c.join();
    assertThat(t).isInstanceOf(ClientGoneException.class);
  }

  @Test
  void closingTheEndpointFailsExchangesInFlight() throws Exception {
    ready(1);
    AtomicReference<Throwable> failure = new AtomicReference<>();
    Thread caller =
        Thread.ofVirtual()
            .start(
                () -> {
                  try {
                    endpoint.exchange(get("/echo/slow"), new CollectingSink());
                  } catch (Throwable t) {
                    failure.set(t);
                  }
                });
    child.request();
    endpoint.close();
    caller.join();
    assertThat(kindOf(failure.get())).isEqualTo(Kind.CHILD_FAILED);
    assertThat(failure.get()).hasMessageContaining("endpoint closed");
    assertThat(child.read()).isNull(); // the child sees end of file, its cue to exit
    assertThat(runDir.resolve("echo-3.sock")).doesNotExist();
  }

  @Test
  void refusesMoreExchangesThanItsConcurrency() throws Exception {
    ready(1);
    Thread caller =
        Thread.ofVirtual()
            .start(
                () -> {
                  try {
                    endpoint.exchange(get("/echo/slow"), new CollectingSink());
                  } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                  }
                });
    Received r = child.request();
    Throwable t = catchThrowable(() -> endpoint.exchange(get("/echo/more"), new CollectingSink()));
    assertThat(t)
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("concurrency of 1");
    child.respond(r.id(), 204, Headers.empty(), new byte[0]);
    caller.join();
  }
}
