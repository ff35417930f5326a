package dev.locallambdas.transport.pipe;

import java.util.Arrays;

/**
 * The gateway's view of the slots of one shared-memory segment (docs/protocol.md section 8.4): the
 * gateway's own slots 0..G-1 (request bodies) and the child's slots G..G+C-1 (response bodies),
 * each with its state and generation. Every transition goes through {@link #move}, which refuses
 * the ones the protocol does not allow; a refusal caused by the child is a {@link FrameException}
 * (the connection fails), one caused by the gateway itself an IllegalStateException.
 *
 * <p>Not thread-safe: used on the connection's event loop only.
 */
final class Slots {
  /** A slot's state as the gateway sees it. */
  enum State {
    /** Gateway slot the gateway may write: no stream has it. */
    FREE,
    /** Gateway slot a stream is copying a piece into; no doorbell yet. */
    FILLING,
    /** Gateway slot whose doorbell went out: the child reads it until its SHM_RELEASE. */
    SENT,
    /** Child slot: no piece of the child's waits in it. */
    IDLE,
    /** Child slot: its piece is being written to a client; released when that is done. */
    HELD
  }

  private final int gatewaySlots;
  private final int childSlots;
  private final int slotSize;
  private final State[] states;
  private final long[] generations;

  Slots(int gatewaySlots, int childSlots, int slotSize) {
    if (gatewaySlots < 1 || childSlots < 1 || gatewaySlots + childSlots > 0xFFFF) {
      throw new IllegalArgumentException(gatewaySlots + " + " + childSlots + " slots");
    }
    this.gatewaySlots = gatewaySlots;
    this.childSlots = childSlots;
    this.slotSize = slotSize;
    this.states = new State[gatewaySlots + childSlots];
    this.generations = new long[gatewaySlots + childSlots];
    Arrays.fill(states, 0, gatewaySlots, State.FREE);
    Arrays.fill(states, gatewaySlots, states.length, State.IDLE);
  }

  int gatewaySlots() {
    return gatewaySlots;
  }

  int childSlots() {
    return childSlots;
  }

  int slotSize() {
    return slotSize;
  }

  State state(int slot) {
    return states[slot];
  }

  long generation(int slot) {
    return generations[slot];
  }

  // ---------------------------------------------------------------- the gateway's slots

  /** A FREE gateway slot, now FILLING; -1 when none is free (the piece goes as frames). */
  int acquire() {
    for (int i = 0; i < gatewaySlots; i++) {
      if (states[i] == State.FREE) {
        states[i] = State.FILLING;
        return i;
      }
    }
    return -1;
  }

  /** The piece in a FILLING slot is rung: SENT. Returns the generation to name. */
  long send(int slot) {
    ownSlot(slot);
    if (states[slot] != State.FILLING) {
      throw new IllegalStateException("slot " + slot + " rung while " + states[slot]);
    }
    states[slot] = State.SENT;
    return generations[slot];
  }

  /** A FILLING slot given up before its doorbell (the stream ended): FREE again. */
  void abandon(int slot) {
    ownSlot(slot);
    if (states[slot] != State.FILLING) {
      throw new IllegalStateException("slot " + slot + " abandoned while " + states[slot]);
    }
    states[slot] = State.FREE;
  }

  /** The child's SHM_RELEASE: the slot must be a SENT gateway slot of that generation. */
  void released(int slot, long generation) throws FrameException {
    if (slot >= gatewaySlots) {
      throw new FrameException(
          "SHM_RELEASE for slot " + slot + ", not one of the gateway's 0.." + (gatewaySlots - 1));
    }
    move(slot, generation, State.SENT, State.FREE, "SHM_RELEASE");
  }

  // ---------------------------------------------------------------- the child's slots

  /** The child's SHM_BODY: an IDLE child slot of that generation, 1..slot_size bytes. */
  void arrived(int slot, long generation, int length) throws FrameException {
    if (slot < gatewaySlots || slot >= states.length) {
      throw new FrameException(
          "SHM_BODY names slot "
              + slot
              + ", not one of the child's "
              + gatewaySlots
              + ".."
              + (states.length - 1));
    }
    if (length < 1 || length > slotSize) {
      throw new FrameException(
          "SHM_BODY length " + length + " is outside 1.." + slotSize + " (the slot size)");
    }
    move(slot, generation, State.IDLE, State.HELD, "SHM_BODY");
  }

  /** The gateway is done with a HELD child slot: IDLE. Returns the generation to release. */
  long release(int slot) {
    if (slot < gatewaySlots || states[slot] != State.HELD) {
      throw new IllegalStateException("slot " + slot + " released while " + states[slot]);
    }
    long generation = generations[slot];
    states[slot] = State.IDLE;
    generations[slot] = (generation + 1) & 0xFFFF_FFFFL;
    return generation;
  }

  // ---------------------------------------------------------------- the one checked transition

  /**
   * Moves {@code slot} from {@code from} to {@code to} when the child's frame names the slot's
   * generation; leaving SENT (a release) starts the next generation.
   */
  private void move(int slot, long generation, State from, State to, String frame)
      throws FrameException {
    if (states[slot] != from) {
      throw new FrameException(
          frame + " for slot " + slot + " while it is " + states[slot] + ", not " + from);
    }
    if (generations[slot] != generation) {
      throw new FrameException(
          frame
              + " for slot "
              + slot
              + " names generation "
              + generation
              + ", the slot is at generation "
              + generations[slot]);
    }
    states[slot] = to;
    if (from == State.SENT) {
      generations[slot] = (generation + 1) & 0xFFFF_FFFFL;
    }
  }

  private void ownSlot(int slot) {
    if (slot < 0 || slot >= gatewaySlots) {
      throw new IllegalStateException("slot " + slot + " is not the gateway's");
    }
  }
}
