package dev.locallambdas.manifest;

/**
 * Whether a pipe function's bodies may travel through shared memory (docs/protocol.md section 8,
 * ADR 0011).
 */
public enum SharedMemory {
  /** Offered to children that can map it; bodies from the measured threshold on use it. */
  AUTO,
  /** Offered, and every body uses a slot while one is free. */
  ON,
  /** Never offered: bodies go in frames. */
  OFF
}
