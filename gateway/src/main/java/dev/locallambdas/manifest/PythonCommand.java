package dev.locallambdas.manifest;

import java.nio.file.Path;
import java.util.List;
import java.util.Set;

/**
 * A Python function's command line split as the interpreter reads it: the interpreter's options,
 * then the program ({@code SCRIPT ARGS...} or {@code -m MODULE ARGS...}). A fork template puts its
 * own script between the two.
 *
 * @param options the interpreter's options, e.g. {@code -u}, {@code -X dev}
 * @param program the script or {@code -m MODULE}, then the program's arguments
 */
public record PythonCommand(List<String> options, List<String> program) {
  /** Options whose value is the next argument when it is not attached. */
  private static final Set<String> WITH_VALUE = Set.of("-X", "-W", "--check-hash-based-pycs");

  public PythonCommand {
    options = List.copyOf(options);
    program = List.copyOf(program);
  }

  /** True when {@code executable} names a Python interpreter (python, python3.12, pypy3, ...). */
  public static boolean isPython(String executable) {
    Path name = Path.of(executable).getFileName();
    String n = name == null ? "" : name.toString();
    return n.matches("(python|pypy)[0-9.]*");
  }

  /**
   * Splits {@code args}; IllegalArgumentException (with the fix) when there is no program a
   * template can run: none at all, {@code -c CODE}, or the standard input.
   */
  public static PythonCommand parse(List<String> args) {
    int i = 0;
    while (i < args.size()) {
      String a = args.get(i);
      if (a.equals("-m")) {
        if (i + 1 >= args.size()) {
          throw new IllegalArgumentException("-m names no module");
        }
        break;
      }
      if (a.equals("-") || a.equals("--") || !a.startsWith("-")) {
        break;
      }
      if (a.startsWith("-c")) {
        throw new IllegalArgumentException(
            "a template cannot run a -c program: put the code in a file and name the file");
      }
      i += WITH_VALUE.contains(a) ? 2 : 1;
    }
    if (i < args.size() && args.get(i).equals("--")) {
      i++;
    }
    if (i >= args.size() || args.get(i).equals("-")) {
      throw new IllegalArgumentException(
          "a template needs the function's program in <arg>: a script or -m MODULE"
              + " (not the standard input)");
    }
    return new PythonCommand(
        args.subList(0, Math.min(i, args.size())), args.subList(i, args.size()));
  }
}
