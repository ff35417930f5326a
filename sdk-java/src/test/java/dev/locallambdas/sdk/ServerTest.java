package dev.locallambdas.sdk;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The SDK against a gateway speaking protocol 1.1; {@link ServerVersion1Test} runs it with 1.0. */
@Timeout(30)
class ServerTest {

  /** The version the fake gateway chooses in WELCOME. */
  int version() {
    return 2;
  }

  FakeGateway start(Handler handler, int concurrency) throws IOException {
    return FakeGateway.start(handler, concurrency, version());
  }

  static byte[] utf8(String text) {
    return text.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void sendsHelloWithVersionsOneToTwoPidAndSdkName() throws Exception {
    try (FakeGateway gateway = start(request -> Response.ok(""), 1)) {
      byte[] pid = FakeGateway.payload(out -> out.writeInt((int) ProcessHandle.current().pid()));
      // No capabilities word: a 1.0 gateway refuses bytes after sdk (docs/protocol.md 7.1).
      byte[] expected =
          FakeGateway.payload(
              out -> {
                out.writeShort(1);
                out.writeShort(2);
                out.write(pid);
                FakeGateway.writeStr16(out, "java/0.1.0");
              });
      assertThat(gateway.hello.stream()).isZero();
      assertThat(gateway.hello.flags()).isZero();
      assertThat(gateway.hello.payload()).isEqualTo(expected);
    }
  }

  @Test
  void answersGetWithPathQueryAndHeaders() throws Exception {
    Handler handler =
        request ->
            Response.ok(
                    request.method()
                        + " "
                        + request.path()
                        + " "
                        + request.query()
                        + " "
                        + request.header("X-Thing")
                        + " "
                        + request.headers().size())
                .header("X-Reply", "yes");
    try (FakeGateway gateway = start(handler, 1)) {
      gateway.request(1, "GET", "/fn/items?id=7&x=é", true, "x-thing", "one", "x-thing", "two");
      FakeGateway.Answer answer = gateway.answer(1);
      assertThat(answer.status).isEqualTo(200);
      assertThat(answer.text()).isEqualTo("GET /fn/items id=7&x=é one 2");
      assertThat(answer.headers)
          .containsEntry("content-type", "text/plain; charset=utf-8")
          .containsEntry("x-reply", "yes");

      gateway.request(2, "GET", "/plain", true);
      assertThat(gateway.answer(2).text()).isEqualTo("GET /plain null null 0");
    }
  }

  @Test
  void sendsAnEmptyResponseAsOneHeadFrameWithEndStream() throws Exception {
    try (FakeGateway gateway = start(request -> Response.of(204, null).header("x-a", "b"), 1)) {
      gateway.request(5, "DELETE", "/x", true);
      Frame head = gateway.read();
      assertThat(head.type()).isEqualTo(Frame.RESPONSE_HEAD);
      assertThat(head.flags()).isEqualTo(Frame.END_STREAM);
      assertThat(head.stream()).isEqualTo(5);
      assertThat(head.payload())
          .isEqualTo(
              FakeGateway.payload(
                  out -> {
                    out.writeShort(204);
                    out.writeShort(1);
                    FakeGateway.writeStr16(out, "x-a");
                    out.writeInt(1);
                    out.write('b');
                  }));
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 4})
  void echoesFiveMegabyteBodyByteExact(int concurrency) throws Exception {
    byte[] data = new byte[5 * 1024 * 1024 + 17];
    new Random(42).nextBytes(data);
    try (FakeGateway gateway =
        start(request -> Response.of(200, request.bodyBytes()), concurrency)) {
      gateway.request(3, "POST", "/echo", false, "content-type", "application/octet-stream");
      gateway.bodyInChunks(3, data);
      FakeGateway.Answer answer = gateway.answer(3);
      assertThat(answer.status).isEqualTo(200);
      assertThat(answer.body.toByteArray()).isEqualTo(data);
      assertThat(answer.largestChunk).isLessThanOrEqualTo(64 * 1024);
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 4})
  void streamsBodyThroughWhileItArrives(int concurrency) throws Exception {
    byte[] data = new byte[3 * 1024 * 1024];
    new Random(7).nextBytes(data);
    Handler echo = request -> Response.streaming(200, out -> request.body().transferTo(out));
    try (FakeGateway gateway = start(echo, concurrency)) {
      gateway.request(9, "PUT", "/echo", false);
      // Sends while it reads: the SDK answers before the body has ended.
      Thread sender =
          new Thread(
              () -> {
                try {
                  gateway.bodyInChunks(9, data);
                } catch (IOException e) {
                  throw new java.io.UncheckedIOException(e);
                }
              });
      sender.start();
      FakeGateway.Answer answer = gateway.answer(9);
      sender.join();
      assertThat(answer.body.toByteArray()).isEqualTo(data);
      assertThat(answer.largestChunk).isLessThanOrEqualTo(64 * 1024);
    }
  }

  @Test
  void streamedResponseFlushesHeadAndChunksOnDemand() throws Exception {
    byte[] big = new byte[200_000];
    new Random(1).nextBytes(big);
    CountDownLatch firstChunkSeen = new CountDownLatch(1);
    Handler handler =
        request ->
            Response.streaming(
                201,
                out -> {
                  out.write(utf8("event: hello\n\n"));
                  out.flush();
                  try {
                    firstChunkSeen.await();
                  } catch (InterruptedException e) {
                    throw new java.io.InterruptedIOException();
                  }
                  out.write(big);
                  out.close();
                });
    try (FakeGateway gateway = start(handler, 1)) {
      gateway.request(1, "GET", "/events", true);
      Frame head = gateway.read();
      assertThat(head.type()).isEqualTo(Frame.RESPONSE_HEAD);
      assertThat(head.endStream()).isFalse();
      Frame first = gateway.read();
      assertThat(first.type()).isEqualTo(Frame.RESPONSE_BODY);
      assertThat(new String(first.payload(), StandardCharsets.UTF_8)).isEqualTo("event: hello\n\n");
      firstChunkSeen.countDown();
      java.io.ByteArrayOutputStream rest = new java.io.ByteArrayOutputStream();
      Frame frame;
      do {
        frame = gateway.read();
        assertThat(frame.type()).isEqualTo(Frame.RESPONSE_BODY);
        assertThat(frame.payload().length).isLessThanOrEqualTo(64 * 1024);
        rest.writeBytes(frame.payload());
      } while (!frame.endStream());
      assertThat(rest.toByteArray()).isEqualTo(big);
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 4})
  void handlerExceptionBecomes500AndServingGoesOn(int concurrency) throws Exception {
    Handler handler =
        request -> {
          if (request.path().equals("/boom")) {
            throw new IllegalStateException("boom (expected by the test)");
          }
          return Response.ok("fine");
        };
    try (FakeGateway gateway = start(handler, concurrency)) {
      gateway.request(1, "GET", "/boom", true);
      FakeGateway.Answer answer = gateway.answer(1);
      assertThat(answer.status).isEqualTo(500);
      assertThat(answer.text()).isEqualTo("Internal Server Error\n");
      gateway.request(1, "GET", "/ok", true);
      assertThat(gateway.answer(1).text()).isEqualTo("fine");
    }
  }

  @Test
  void failureAfterTheHeadWasSentBecomesReset() throws Exception {
    Handler handler =
        request ->
            Response.streaming(
                200,
                out -> {
                  out.write(utf8("partial"));
                  out.flush();
                  throw new IOException("disk on fire (expected by the test)");
                });
    try (FakeGateway gateway = start(handler, 1)) {
      gateway.request(4, "GET", "/", true);
      FakeGateway.Answer answer = gateway.answer(4);
      assertThat(answer.status).isEqualTo(200);
      assertThat(answer.text()).isEqualTo("partial");
      assertThat(answer.reset).contains("disk on fire");
    }
  }

  @Test
  void servesFourRequestsAtOnceWithInterleavedFrames() throws Exception {
    CountDownLatch allRunning = new CountDownLatch(4);
    Handler handler =
        request -> {
          allRunning.countDown();
          // Only completes if all four handlers run at the same time.
          if (!allRunning.await(10, TimeUnit.SECONDS)) {
            throw new IllegalStateException("handlers did not run concurrently");
          }
          String body = new String(request.bodyBytes(), StandardCharsets.UTF_8);
          return Response.ok(request.path() + ":" + body);
        };
    try (FakeGateway gateway = start(handler, 4)) {
      for (int id = 1; id <= 4; id++) {
        gateway.request(id, "POST", "/r" + id, false);
      }
      for (int part = 0; part < 3; part++) {
        for (int id = 4; id >= 1; id--) {
          gateway.body(id, utf8(id + "." + part + ";"), part == 2);
        }
      }
      Map<Integer, FakeGateway.Answer> answers = gateway.answers(4);
      for (int id = 1; id <= 4; id++) {
        assertThat(answers.get(id).text())
            .isEqualTo("/r" + id + ":" + id + ".0;" + id + ".1;" + id + ".2;");
      }
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 4})
  void resetStopsTheBodyAndDiscardsTheResponse(int concurrency) throws Exception {
    CountDownLatch firstChunkRead = new CountDownLatch(1);
    CountDownLatch resetSeen = new CountDownLatch(1);
    AtomicReference<IOException> seen = new AtomicReference<>();
    Handler handler =
        request -> {
          if (request.path().equals("/next")) {
            return Response.ok("next");
          }
          InputStream body = request.body();
          body.read(new byte[5]);
          firstChunkRead.countDown();
          try {
            body.readAllBytes();
          } catch (IOException e) {
            seen.set(e);
            resetSeen.countDown();
            throw e;
          }
          return Response.ok("must not be sent");
        };
    try (FakeGateway gateway = start(handler, concurrency)) {
      gateway.request(1, "POST", "/slow", false);
      gateway.body(1, utf8("first"), false);
      assertThat(firstChunkRead.await(10, TimeUnit.SECONDS)).isTrue();
      gateway.reset(1, "client went away");
      if (version() == 2) {
        // The id is in use until the SDK acknowledges the RESET, once the handler returned.
        assertThat(gateway.answer(1).reset).isNotNull();
      }
      gateway.request(1, "GET", "/next", true);
      // The first frames on the wire answer the new request: nothing of the reset one.
      FakeGateway.Answer answer = gateway.answer(1);
      assertThat(answer.status).isEqualTo(200);
      assertThat(answer.text()).isEqualTo("next");
      // With concurrency > 1 the next request can be answered before the reset handler's
      // thread has seen its exception: wait for it rather than race it.
      assertThat(resetSeen.await(10, TimeUnit.SECONDS)).isTrue();
      assertThat(seen.get()).hasMessageContaining("client went away");
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 4})
  void resetStopsAStreamingWriter(int concurrency) throws Exception {
    AtomicReference<IOException> seen = new AtomicReference<>();
    CountDownLatch stopped = new CountDownLatch(1);
    Handler handler =
        request -> {
          if (request.path().equals("/next")) {
            return Response.ok("next");
          }
          return Response.streaming(
              200,
              out -> {
                try {
                  while (true) {
                    out.write(new byte[1024]);
                    out.flush();
                  }
                } catch (IOException e) {
                  seen.set(e);
                  stopped.countDown();
                  throw e;
                }
              });
        };
    try (FakeGateway gateway = start(handler, concurrency)) {
      gateway.request(1, "GET", "/forever", true);
      assertThat(gateway.read().type()).isEqualTo(Frame.RESPONSE_HEAD);
      assertThat(gateway.read().type()).isEqualTo(Frame.RESPONSE_BODY);
      gateway.reset(1, "timeout");
      gateway.request(2, "GET", "/next", true);
      // Frames of request 1 already in flight are ignored, as a gateway does.
      FakeGateway.Answer answer = gateway.answer(2, 1);
      assertThat(answer.text()).isEqualTo("next");
      assertThat(stopped.await(10, TimeUnit.SECONDS)).isTrue();
      assertThat(seen.get()).hasMessageContaining("timeout");
    }
  }

  @Test
  void discardsLateBodyFramesAfterAnEarlyResponse() throws Exception {
    try (FakeGateway gateway = start(request -> Response.text(413, "too big"), 1)) {
      gateway.request(1, "POST", "/upload", false);
      assertThat(gateway.answer(1).status).isEqualTo(413);
      gateway.body(1, utf8("late"), false);
      gateway.body(1, utf8("later"), true);
      gateway.request(1, "GET", "/again", true);
      assertThat(gateway.answer(1).status).isEqualTo(413);
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 4})
  void ignoresResetForAnIdNotInUse(int concurrency) throws Exception {
    try (FakeGateway gateway = start(request -> Response.ok("ok"), concurrency)) {
      gateway.request(1, "GET", "/", true);
      gateway.answer(1);
      gateway.reset(1, "crossed the END_STREAM");
      gateway.reset(99, "");
      gateway.request(2, "GET", "/", true);
      // The first frame after these RESETs answers request 2: neither was acknowledged.
      Frame next = gateway.read();
      assertThat(next.stream()).isEqualTo(2);
      assertThat(next.type()).isEqualTo(Frame.RESPONSE_HEAD);
    }
  }

  @Test
  void returnsWhenTheGatewayClosesWhileIdle() throws Exception {
    try (FakeGateway gateway = start(request -> Response.ok("ok"), 1)) {
      gateway.hangUp();
      assertThat(gateway.awaitServerEnd()).isNull();
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 4})
  void returnsWhenTheGatewayClosesDuringARequest(int concurrency) throws Exception {
    CountDownLatch reading = new CountDownLatch(1);
    AtomicReference<IOException> seen = new AtomicReference<>();
    Handler handler =
        request -> {
          reading.countDown();
          try {
            request.bodyBytes();
          } catch (IOException e) {
            seen.set(e);
          }
          return Response.ok("unsent");
        };
    try (FakeGateway gateway = start(handler, concurrency)) {
      gateway.request(1, "POST", "/", false);
      assertThat(reading.await(10, TimeUnit.SECONDS)).isTrue();
      gateway.hangUp();
      assertThat(gateway.awaitServerEnd()).isNull();
    }
    if (concurrency == 1) {
      assertThat(seen.get()).isNotNull();
    }
  }

  @Test
  void acceptsAFrameOfExactlyTheMaximumPayload() throws Exception {
    Handler handler = request -> Response.ok(Integer.toString(request.bodyBytes().length));
    try (FakeGateway gateway = FakeGateway.start(handler, 1, version(), Frame.MAX_PAYLOAD)) {
      gateway.request(1, "POST", "/", false);
      gateway.body(1, new byte[1024 * 1024], true);
      assertThat(gateway.answer(1).text()).isEqualTo("1048576");
    }
  }

  @Test
  void refusesAFrameLongerThanTheMaximumPayload() throws Exception {
    try (FakeGateway gateway = start(request -> Response.ok("ok"), 1)) {
      gateway.request(1, "POST", "/", false);
      java.nio.ByteBuffer header = java.nio.ByteBuffer.allocate(10);
      header.putInt(1024 * 1024 + 1).put((byte) Frame.REQUEST_BODY).put((byte) 0).putInt(1).flip();
      gateway.sendRaw(header);
      assertProtocolError(gateway, "exceeds the maximum of 1048576");
    }
  }

  @Test
  void refusesAnUnknownFrameType() throws Exception {
    try (FakeGateway gateway = start(request -> Response.ok("ok"), 1)) {
      gateway.send(0x7f, 0, 1, new byte[0]);
      assertProtocolError(gateway, "unknown frame type 0x7f");
    }
  }

  @Test
  void refusesReservedFlagBits() throws Exception {
    try (FakeGateway gateway = start(request -> Response.ok("ok"), 4)) {
      gateway.send(Frame.REQUEST_HEAD, 0x02, 1, new byte[0]);
      assertProtocolError(gateway, "reserved flag bits");
    }
  }

  @Test
  void refusesBodyForAnUnknownRequest() throws Exception {
    try (FakeGateway gateway = start(request -> Response.ok("ok"), 4)) {
      gateway.body(8, utf8("x"), true);
      assertProtocolError(gateway, "unknown request id 8");
    }
  }

  @Test
  void refusesATruncatedRequestHead() throws Exception {
    try (FakeGateway gateway = start(request -> Response.ok("ok"), 1)) {
      gateway.send(Frame.REQUEST_HEAD, Frame.END_STREAM, 1, new byte[] {0, 3, 'G'});
      assertProtocolError(gateway, "truncated");
    }
  }

  @Test
  void refusesMoreRequestsThanTheConcurrency() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    Handler handler =
        request -> {
          release.await();
          return Response.ok("ok");
        };
    try (FakeGateway gateway = start(handler, 2)) {
      gateway.request(1, "GET", "/", true);
      gateway.request(2, "GET", "/", true);
      gateway.request(3, "GET", "/", true);
      assertProtocolError(gateway, "exceeds the concurrency of 2");
    } finally {
      release.countDown();
    }
  }

  static void assertProtocolError(FakeGateway gateway, String message) throws Exception {
    assertThat(gateway.awaitServerEnd())
        .isInstanceOf(ProtocolException.class)
        .hasMessageContaining(message);
    // The SDK closed its end: the gateway reads end of stream (after any frames in flight).
    while (gateway.read() != null) {
      // drain
    }
  }
}
