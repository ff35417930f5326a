package dev.locallambdas.process;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What to start: a command, where, with which environment, and how long it may take to stop.
 *
 * <p>The child inherits the gateway's environment with {@code extraEnvironment} laid over it, and
 * reads /dev/null as its stdin.
 *
 * @param label names the child in log lines, e.g. the function id and instance number
 * @param command the program and its arguments; a program without '/' is looked up on the PATH of
 *     the child's environment, a relative path is resolved against the working directory
 * @param workingDirectory the directory the child runs in; null means the gateway's
 * @param extraEnvironment variables added to (or overriding) the gateway's environment
 * @param stopGrace how long {@link ChildProcess#stop()} waits after SIGTERM before SIGKILL
 */
public record LaunchSpec(
    String label,
    List<String> command,
    Path workingDirectory,
    Map<String, String> extraEnvironment,
    Duration stopGrace) {

  public LaunchSpec {
    Objects.requireNonNull(label, "label");
    if (label.isBlank()) {
      throw new IllegalArgumentException("label must not be blank, got '" + label + "'");
    }
    Objects.requireNonNull(command, "command");
    if (command.isEmpty()) {
      throw new IllegalArgumentException("command of '" + label + "' must name a program");
    }
    for (String part : command) {
      if (part == null || part.indexOf('\0') >= 0) {
        throw new IllegalArgumentException(
            "command of '" + label + "' has a null or NUL-containing part: " + command);
      }
    }
    if (command.getFirst().isEmpty()) {
      throw new IllegalArgumentException("command of '" + label + "' has an empty program name");
    }
    command = List.copyOf(command);
    extraEnvironment = extraEnvironment == null ? Map.of() : Map.copyOf(extraEnvironment);
    for (Map.Entry<String, String> e : extraEnvironment.entrySet()) {
      String name = e.getKey();
      if (name.isEmpty() || name.indexOf('=') >= 0 || name.indexOf('\0') >= 0) {
        throw new IllegalArgumentException(
            "environment variable name of '" + label + "' is invalid: '" + name + "'");
      }
      if (e.getValue().indexOf('\0') >= 0) {
        throw new IllegalArgumentException(
            "environment variable " + name + " of '" + label + "' contains a NUL character");
      }
    }
    Objects.requireNonNull(stopGrace, "stopGrace");
    if (stopGrace.isNegative()) {
      throw new IllegalArgumentException(
          "stopGrace of '" + label + "' must not be negative, got " + stopGrace);
    }
  }

  /** A spec with no extra environment, the gateway's working directory and a 3 second grace. */
  public static LaunchSpec of(String label, List<String> command) {
    return new LaunchSpec(label, command, null, Map.of(), Duration.ofSeconds(3));
  }
}
