package dev.locallambdas.transport.pipe;

import io.netty.buffer.ByteBuf;
import io.netty.channel.EventLoop;
import java.nio.ByteBuffer;
import java.util.concurrent.RejectedExecutionException;
import java.util.logging.Logger;

/**
 * The shared-memory side of one pipe connection (docs/protocol.md section 8): the segment, the
 * slots' states, which stream fills which gateway slot, and the child's SHM_ATTACH. The frames
 * themselves are read and written by {@link PipeConnection}; this class decides and checks. Used on
 * the connection's event loop only, except {@link #slotBufferReleased}, which hops there.
 */
final class ShmBodies {
  private static final Logger LOG = Logger.getLogger("dev.locallambdas.transport.pipe");

  /** Whether the child has said (SHM_ATTACH) whether it mapped the segment. */
  private enum Attach {
    WAITING,
    MAPPED,
    REFUSED
  }

  private final String label;
  private final SharedSegment segment;
  private final Slots slots;
  private final int threshold;
  private final PipeStream[] owners;
  private final ByteBuffer[] views;
  private PipeConnection connection;
  private Attach attach = Attach.WAITING;
  private boolean closed;

  ShmBodies(String label, SharedSegment segment, int threshold) {
    this.label = label;
    this.segment = segment;
    this.threshold = threshold;
    int perSide = segment.slotCount() / 2;
    this.slots = new Slots(perSide, perSide, segment.slotSize());
    this.owners = new PipeStream[perSide];
    this.views = new ByteBuffer[perSide];
  }

  void connection(PipeConnection value) {
    connection = value;
  }

  int threshold() {
    return threshold;
  }

  int slotSize() {
    return slots.slotSize();
  }

  /** The child's first frame must be its SHM_ATTACH. */
  boolean attachPending() {
    return attach == Attach.WAITING;
  }

  /** Slots may be used: the child mapped the segment and the connection is alive. */
  boolean usable() {
    return attach == Attach.MAPPED && !closed;
  }

  /** The child's SHM_ATTACH; the reason follows the status in {@code payload}. */
  void attached(ByteBuffer payload) throws FrameException {
    if (attach != Attach.WAITING) {
      throw new FrameException("second SHM_ATTACH");
    }
    long status = FrameCodec.decodeShmAttachStatus(payload);
    segment.attached(); // the path is no longer needed either way
    if (status == 0) {
      attach = Attach.MAPPED;
      LOG.fine(() -> label + ": child mapped the shared-memory segment");
    } else {
      attach = Attach.REFUSED;
      String reason = FrameCodec.decodeReset(payload);
      LOG.warning(
          label
              + ": child could not map the shared-memory segment (status "
              + status
              + (reason.isEmpty() ? "" : ": " + reason)
              + "); its bodies go in frames");
    }
  }

  // ---------------------------------------------------------------- the gateway's slots

  /** A free gateway slot for {@code stream} to fill, or -1 (the stream then sends frames). */
  int acquire(PipeStream stream) {
    int slot = slots.acquire();
    if (slot >= 0) {
      owners[slot] = stream;
    }
    return slot;
  }

  /** The memory of a gateway slot, for the stream that filled it; one view per slot, reused. */
  ByteBuffer view(int slot) {
    ByteBuffer v = views[slot];
    if (v == null) {
      v = segment.slot(slot);
      views[slot] = v;
    }
    return v.clear();
  }

  /** Rings a FILLING slot: returns the generation the doorbell names. */
  long send(int slot) {
    return slots.send(slot);
  }

  /** A FILLING slot whose stream ended before ringing it. */
  void abandon(int slot) {
    slots.abandon(slot);
    owners[slot] = null;
  }

  /** The child's SHM_RELEASE: checked, then the stream that owned the slot may go on. */
  void released(FrameCodec.SlotRef ref) throws FrameException {
    slots.released(ref.slot(), ref.generation());
    PipeStream owner = owners[ref.slot()];
    owners[ref.slot()] = null;
    if (owner != null) {
      owner.slotReleased();
    }
  }

  // ---------------------------------------------------------------- the child's slots

  /**
   * The child's SHM_BODY, checked against the slot's state and generation: its bytes as a buffer
   * that sends the SHM_RELEASE when the last reference to it is released.
   */
  ByteBuf arrived(FrameCodec.SlotRef ref) throws FrameException {
    slots.arrived(ref.slot(), ref.generation(), ref.length());
    int slot = ref.slot();
    EventLoop loop = connection.loop();
    return segment.wrap(slot, ref.length(), () -> slotBufferReleased(loop, slot));
  }

  /** Any thread: the front door is done with a child slot's bytes. */
  private void slotBufferReleased(EventLoop loop, int slot) {
    if (loop.inEventLoop()) {
      giveBack(slot);
    } else {
      try {
        loop.execute(() -> giveBack(slot));
      } catch (RejectedExecutionException e) {
        // The gateway is stopping: the connection and the segment go with it.
      }
    }
  }

  private void giveBack(int slot) {
    long generation = slots.release(slot);
    if (!closed) {
      connection.writeShmRelease(slot, generation);
    }
  }

  /** The connection ended: no frame is sent any more; the segment goes once no buffer uses it. */
  void close() {
    if (!closed) {
      closed = true;
      segment.release();
    }
  }
}
