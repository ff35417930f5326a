package dev.locallambdas.process;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Signals a process together with its descendants. ProcessHandle checks each process's start time
 * before signalling, so a pid reused by an unrelated process is left alone.
 */
final class ProcessTree {
  private ProcessTree() {}

  /**
   * The process and its living descendants, root first. Take this before signalling: once a
   * process dies its children are re-parented and no longer show up as the root's descendants.
   */
  static List<ProcessHandle> snapshot(ProcessHandle root) {
    List<ProcessHandle> tree = new ArrayList<>();
    tree.add(root);
    try (Stream<ProcessHandle> descendants = root.descendants()) {
      descendants.forEach(tree::add);
    }
    return tree;
  }

  /** Sends SIGTERM to each process of the list that is still alive. */
  static void terminate(List<ProcessHandle> processes) {
    for (ProcessHandle p : processes) {
      if (p.isAlive()) {
        p.destroy();
      }
    }
  }

  /** Sends SIGKILL to each process of the list that is still alive; returns how many it hit. */
  static int kill(List<ProcessHandle> processes) {
    int hit = 0;
    for (ProcessHandle p : processes) {
      if (p.isAlive() && p.destroyForcibly()) {
        hit++;
      }
    }
    return hit;
  }

  /** Sends SIGKILL to a process and all its descendants now. */
  static int kill(ProcessHandle root) {
    return kill(snapshot(root));
  }
}
