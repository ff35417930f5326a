package dev.locallambdas.process;

import java.util.ArrayDeque;
import java.util.List;

/** The last few lines of a stream, each cut to a bounded length. Thread-safe. */
final class RecentLines {
  private final int capacity;
  private final int maxLineLength;
  private final ArrayDeque<String> lines;

  RecentLines(int capacity, int maxLineLength) {
    if (capacity < 1) {
      throw new IllegalArgumentException("capacity must be at least 1, got " + capacity);
    }
    if (maxLineLength < 1) {
      throw new IllegalArgumentException("maxLineLength must be at least 1, got " + maxLineLength);
    }
    this.capacity = capacity;
    this.maxLineLength = maxLineLength;
    this.lines = new ArrayDeque<>(capacity);
  }

  void add(String line) {
    String kept = line.length() > maxLineLength ? line.substring(0, maxLineLength) + "…" : line;
    synchronized (lines) {
      if (lines.size() == capacity) {
        lines.removeFirst();
      }
      lines.addLast(kept);
    }
  }

  /** Oldest first. */
  List<String> snapshot() {
    synchronized (lines) {
      return List.copyOf(lines);
    }
  }
}
