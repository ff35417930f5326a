package dev.locallambdas.sdk;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The instance's shared-memory segment and both sides' slot states (docs/protocol.md section 8).
 * Slot numbers are the protocol's: the gateway's 0..G-1, ours G..G+C-1. The state is guarded by
 * this object's monitor, which threads waiting for a release of one of our slots wait on; the bytes
 * of a slot are touched only by the side the frames say owns it.
 */
final class SharedSlots {
  static final int MAGIC = 0x4C4C534D;
  static final int LAYOUT = 1;

  private final MappedByteBuffer memory;
  private final int dataOffset;
  private final int slotSize;
  private final int firstChild;
  private final long threshold;
  private final boolean[] held; // the gateway's slots whose piece we have not released
  private final long[] gatewayGenerations;
  private final boolean[] sent; // our slots the gateway has not released
  private final long[] generations;

  private SharedSlots(MappedByteBuffer memory, long threshold) throws IOException {
    int magic = memory.getInt(0);
    int layout = memory.getInt(4);
    int offset = memory.getInt(8);
    int size = memory.getInt(12);
    int gatewaySlots = memory.getShort(16) & 0xFFFF;
    int childSlots = memory.getShort(18) & 0xFFFF;
    if (magic != MAGIC || layout != LAYOUT) {
      throw new IOException("segment magic 0x" + Integer.toHexString(magic) + " layout " + layout);
    }
    if (offset <= 0
        || offset % 4096 != 0
        || size < Frame.MIN_WINDOW
        || size % 4096 != 0
        || gatewaySlots == 0
        || childSlots == 0
        || memory.capacity() != (long) offset + (long) (gatewaySlots + childSlots) * size) {
      throw new IOException(
          "segment of "
              + memory.capacity()
              + " bytes does not match its header (offset "
              + offset
              + ", slot size "
              + size
              + ", "
              + gatewaySlots
              + "+"
              + childSlots
              + " slots)");
    }
    this.memory = memory;
    this.dataOffset = offset;
    this.slotSize = size;
    this.firstChild = gatewaySlots;
    this.threshold = Math.max(1, threshold);
    this.held = new boolean[gatewaySlots];
    this.gatewayGenerations = new long[gatewaySlots];
    this.sent = new boolean[childSlots];
    this.generations = new long[childSlots];
  }

  /** Opens and maps the segment WELCOME named; the descriptor is closed at once. */
  static SharedSlots map(String path, long threshold) throws IOException {
    try (FileChannel channel =
        FileChannel.open(Path.of(path), StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      long size = channel.size();
      if (size < 4096 || size > Integer.MAX_VALUE) {
        throw new IOException("segment of " + size + " bytes");
      }
      return new SharedSlots(channel.map(FileChannel.MapMode.READ_WRITE, 0, size), threshold);
    }
  }

  long threshold() {
    return threshold;
  }

  int slotSize() {
    return slotSize;
  }

  // ---------------------------------------------------------------- the gateway's slots

  /** Checks an SHM_BODY and copies its piece out; the slot must then be released. */
  synchronized byte[] arrived(int slot, int zero, long generation, long length)
      throws ProtocolException {
    if (slot >= firstChild || zero != 0) {
      throw new ProtocolException(
          "SHM_BODY names slot " + slot + " (zero field " + zero + "), not one of the gateway's");
    }
    if (held[slot] || generation != gatewayGenerations[slot]) {
      throw new ProtocolException(
          "SHM_BODY for slot "
              + slot
              + " generation "
              + generation
              + ": held "
              + held[slot]
              + ", expected generation "
              + gatewayGenerations[slot]);
    }
    if (length < 1 || length > slotSize) {
      throw new ProtocolException("SHM_BODY length " + length + " outside 1.." + slotSize);
    }
    held[slot] = true;
    byte[] bytes = new byte[(int) length];
    memory.get(dataOffset + slot * slotSize, bytes);
    return bytes;
  }

  /** A held gateway slot was read: returns the generation its SHM_RELEASE names. */
  synchronized long giveBack(int slot) {
    long generation = gatewayGenerations[slot];
    held[slot] = false;
    gatewayGenerations[slot] = (generation + 1) & 0xFFFF_FFFFL;
    return generation;
  }

  // ---------------------------------------------------------------- our slots

  /** One of our free slots, now marked sent (its doorbell must follow), or -1. */
  synchronized int acquire() {
    for (int i = 0; i < sent.length; i++) {
      if (!sent[i]) {
        sent[i] = true;
        return firstChild + i;
      }
    }
    return -1;
  }

  /** Copies a piece into an acquired slot; returns the generation the doorbell names. */
  long fill(int slot, byte[] bytes, int offset, int length) {
    ByteBuffer target = memory.duplicate();
    target.position(dataOffset + slot * slotSize);
    target.put(bytes, offset, length);
    synchronized (this) {
      return generations[slot - firstChild];
    }
  }

  /** An acquired slot whose doorbell never left: free again. */
  synchronized void unfill(int slot) {
    sent[slot - firstChild] = false;
    notifyAll();
  }

  /**
   * Whether the piece rung in {@code slot} under {@code generation} is not released yet; once it
   * is, the generation has moved on (the slot may already carry another request's piece).
   */
  synchronized boolean inFlight(int slot, long generation) {
    return generations[slot - firstChild] == generation;
  }

  /** Checks the gateway's SHM_RELEASE; the slot is free from now on. */
  synchronized void released(int slot, int zero, long generation) throws ProtocolException {
    int i = slot - firstChild;
    if (i < 0 || i >= sent.length || zero != 0) {
      throw new ProtocolException(
          "SHM_RELEASE names slot " + slot + " (zero field " + zero + "), not one of ours");
    }
    if (!sent[i] || generation != generations[i]) {
      throw new ProtocolException(
          "SHM_RELEASE for slot "
              + slot
              + " generation "
              + generation
              + ": sent "
              + sent[i]
              + ", at generation "
              + generations[i]);
    }
    sent[i] = false;
    generations[i] = (generation + 1) & 0xFFFF_FFFFL;
    notifyAll();
  }
}
