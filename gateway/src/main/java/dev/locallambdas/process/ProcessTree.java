package dev.locallambdas.process;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Signals a process together with its descendants. ProcessHandle checks each process's start time
 * before signalling, so a pid reused by an unrelated process is left alone.
 *
 * <p>A grandchild re-parented to an init that does not reap (common as PID 1 in containers) stays a
 * zombie after death, which {@link ProcessHandle#isAlive()} still reports as alive; {@link
 * #isRunning} does not.
 */
final class ProcessTree {
  private ProcessTree() {}

  /**
   * The process and its living descendants, root first. Take this before signalling: once a process
   * dies its children are re-parented and no longer show up as the root's descendants.
   */
  static List<ProcessHandle> snapshot(ProcessHandle root) {
    List<ProcessHandle> tree = new ArrayList<>();
    tree.add(root);
    try (Stream<ProcessHandle> descendants = root.descendants()) {
      descendants.forEach(tree::add);
    }
    return tree;
  }

  /** Alive and not a zombie. */
  static boolean isRunning(ProcessHandle p) {
    if (!p.isAlive()) {
      return false;
    }
    String stat;
    try {
      stat = Files.readString(Path.of("/proc", Long.toString(p.pid()), "stat"));
    } catch (IOException e) {
      // Gone since the check above, or no /proc: trust ProcessHandle.
      return p.isAlive();
    }
    // The state follows the command name, which is in parentheses and may itself hold ')'.
    int close = stat.lastIndexOf(')');
    return close < 0 || close + 2 >= stat.length() || stat.charAt(close + 2) != 'Z';
  }

  /** Sends SIGTERM to each process of the list that is still alive. */
  static void terminate(List<ProcessHandle> processes) {
    for (ProcessHandle p : processes) {
      if (isRunning(p)) {
        p.destroy();
      }
    }
  }

  /** Sends SIGKILL to each process of the list that is still alive; returns how many it hit. */
  static int kill(List<ProcessHandle> processes) {
    int hit = 0;
    for (ProcessHandle p : processes) {
      if (isRunning(p) && p.destroyForcibly()) {
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
