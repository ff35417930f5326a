package dev.locallambdas.transport.http;

import dev.locallambdas.exchange.Request;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An HTTP child played by the test over an in-memory channel: a {@link LoopPool} whose only
 * connection is an {@link EmbeddedChannel}, so a call runs synchronously on the test's thread and
 * the response arrives in exactly the pieces the test chooses.
 */
final class InMemoryChild {
  final EmbeddedChannel channel = new EmbeddedChannel();
  final FakeTime time = new FakeTime();
  final AtomicInteger connections = new AtomicInteger();
  final LoopPool pool =
      new LoopPool(
          channel.eventLoop(),
          initializer -> {
            channel.pipeline().addLast(initializer);
            return channel.newSucceededFuture();
          },
          new LoopPool.Settings(
              "child 'memory'", "localhost", 1, 4_000_000_000L, time, time, connections));

  /**
   * Opens {@code request} in this turn of the loop; what was deferred to the end of the turn
   * happens at the next {@link #turn}, {@link #sent} or {@link #answer}.
   */
  Transcript open(Request request) {
    Transcript t = new Transcript();
    t.call = pool.open(request, t);
    return t;
  }

  /** Ends the loop's turn: runs what was deferred to it. */
  void turn() {
    channel.runPendingTasks();
  }

  /** The child sends these bytes (one read). */
  void answer(byte[] bytes) {
    if (channel.isOpen()) {
      channel.writeInbound(Unpooled.wrappedBuffer(bytes));
      channel.runPendingTasks();
    }
  }

  void answer(String text) {
    answer(text.getBytes(StandardCharsets.ISO_8859_1));
  }

  /** The child closes the connection. */
  void close() {
    channel.close();
    channel.runPendingTasks();
  }

  /** What the gateway wrote to the child so far. */
  String sent() {
    turn();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (Object o = channel.readOutbound(); o != null; o = channel.readOutbound()) {
      ByteBuf b = (ByteBuf) o;
      byte[] bytes = new byte[b.readableBytes()];
      b.readBytes(bytes);
      b.release();
      out.writeBytes(bytes);
    }
    return out.toString(StandardCharsets.ISO_8859_1);
  }

  /** Releases what is left and rethrows any exception that reached the end of the pipeline. */
  void finish() {
    channel.finishAndReleaseAll();
    channel.checkException();
  }
}
