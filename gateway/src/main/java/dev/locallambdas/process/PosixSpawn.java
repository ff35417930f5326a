package dev.locallambdas.process;

import java.io.IOException;
import java.lang.foreign.AddressLayout;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Starts a child with glibc's {@code posix_spawn} through the FFM API, asking the C library itself
 * for what the JDK would need two more programs for: a new session ({@code POSIX_SPAWN_SETSID}, in
 * place of util-linux setsid) and no inherited descriptor but stdin, stdout and stderr ({@code
 * posix_spawn_file_actions_addclosefrom_np}, in place of the JDK's jspawnhelper, which the JDK
 * starts first so that it can close them). The program still runs through {@code setpriv
 * --pdeathsig KILL} when there is one: a parent-death signal cannot be set between fork and exec
 * from Java.
 *
 * <p>Needs Linux with /proc, glibc 2.34 or newer (closefrom) and native access for this module;
 * {@link #load()} is empty otherwise, and the launcher then starts children the JDK's way.
 * Thread-safe.
 */
final class PosixSpawn {
  private static final Logger LOG = Logger.getLogger("dev.locallambdas.process");

  // <spawn.h>, <fcntl.h>, <sys/wait.h> on Linux, all architectures glibc supports.
  private static final short POSIX_SPAWN_SETSIGMASK = 0x08;
  private static final short POSIX_SPAWN_SETSID = 0x80;
  private static final int O_RDONLY = 0;
  private static final int O_CLOEXEC = 0x80000;
  private static final int EINTR = 4;

  /**
   * Generous sizes for the opaque C types (x86-64 glibc: posix_spawn_file_actions_t 80 bytes,
   * posix_spawnattr_t 336, sigset_t 128): the library writes only within its own size.
   */
  private static final long OPAQUE = 1024;

  private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT;
  private static final AddressLayout ADDRESS = ValueLayout.ADDRESS;
  private static final StructLayout CALL_STATE = Linker.Option.captureStateLayout();
  private static final VarHandle ERRNO =
      CALL_STATE.varHandle(java.lang.foreign.MemoryLayout.PathElement.groupElement("errno"));

  private final MethodHandle spawn;
  private final MethodHandle actionsInit;
  private final MethodHandle actionsDestroy;
  private final MethodHandle addDup2;
  private final MethodHandle addOpen;
  private final MethodHandle addCloseFrom;
  private final MethodHandle addChdir;
  private final MethodHandle attrInit;
  private final MethodHandle attrDestroy;
  private final MethodHandle attrSetFlags;
  private final MethodHandle attrSetSigMask;
  private final MethodHandle sigEmptySet;
  private final MethodHandle pipe2;
  private final MethodHandle close;
  private final MethodHandle waitpid;

  private PosixSpawn(Linker linker, SymbolLookup libc) {
    spawn =
        handle(
            linker,
            libc,
            "posix_spawn",
            FunctionDescriptor.of(INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS));
    actionsInit =
        handle(linker, libc, "posix_spawn_file_actions_init", FunctionDescriptor.of(INT, ADDRESS));
    actionsDestroy =
        handle(
            linker, libc, "posix_spawn_file_actions_destroy", FunctionDescriptor.of(INT, ADDRESS));
    addDup2 =
        handle(
            linker,
            libc,
            "posix_spawn_file_actions_adddup2",
            FunctionDescriptor.of(INT, ADDRESS, INT, INT));
    addOpen =
        handle(
            linker,
            libc,
            "posix_spawn_file_actions_addopen",
            FunctionDescriptor.of(INT, ADDRESS, INT, ADDRESS, INT, INT));
    addCloseFrom =
        handle(
            linker,
            libc,
            "posix_spawn_file_actions_addclosefrom_np",
            FunctionDescriptor.of(INT, ADDRESS, INT));
    addChdir =
        handle(
            linker,
            libc,
            "posix_spawn_file_actions_addchdir_np",
            FunctionDescriptor.of(INT, ADDRESS, ADDRESS));
    attrInit = handle(linker, libc, "posix_spawnattr_init", FunctionDescriptor.of(INT, ADDRESS));
    attrDestroy =
        handle(linker, libc, "posix_spawnattr_destroy", FunctionDescriptor.of(INT, ADDRESS));
    attrSetFlags =
        handle(
            linker,
            libc,
            "posix_spawnattr_setflags",
            FunctionDescriptor.of(INT, ADDRESS, ValueLayout.JAVA_SHORT));
    attrSetSigMask =
        handle(
            linker,
            libc,
            "posix_spawnattr_setsigmask",
            FunctionDescriptor.of(INT, ADDRESS, ADDRESS));
    sigEmptySet = handle(linker, libc, "sigemptyset", FunctionDescriptor.of(INT, ADDRESS));
    pipe2 = handle(linker, libc, "pipe2", FunctionDescriptor.of(INT, ADDRESS, INT), captureErrno());
    close = handle(linker, libc, "close", FunctionDescriptor.of(INT, INT), captureErrno());
    waitpid =
        handle(
            linker, libc, "waitpid", FunctionDescriptor.of(INT, INT, ADDRESS, INT), captureErrno());
  }

  private static Linker.Option[] captureErrno() {
    return new Linker.Option[] {Linker.Option.captureCallState("errno")};
  }

  // Restricted: calling into C needs native access, which the launcher grants
  // (--enable-native-access=ALL-UNNAMED); where it is denied, load() is empty.
  @SuppressWarnings("restricted")
  private static MethodHandle handle(
      Linker linker,
      SymbolLookup libc,
      String name,
      FunctionDescriptor descriptor,
      Linker.Option... options) {
    MemorySegment symbol =
        libc.find(name)
            .orElseThrow(
                () -> new UnsupportedOperationException(name + " is not in the C library"));
    return linker.downcallHandle(symbol, descriptor, options);
  }

  /**
   * The spawner, when this JVM may call the C library (native access) and the library has every
   * function needed (Linux, glibc 2.34 or newer); empty otherwise, with the reason logged at FINE.
   */
  static Optional<PosixSpawn> load() {
    // The child's pipes are handed to Java by opening /proc/self/fd/N (see SpawnedProcess).
    if (!System.getProperty("os.name", "").equals("Linux")
        || !java.nio.file.Files.isDirectory(Path.of("/proc/self/fd"))) {
      return Optional.empty();
    }
    try {
      Linker linker = Linker.nativeLinker();
      return Optional.of(new PosixSpawn(linker, linker.defaultLookup()));
    } catch (RuntimeException | LinkageError e) {
      LOG.log(Level.FINE, "posix_spawn through FFM is not available; using the JDK's spawning", e);
      return Optional.empty();
    }
  }

  /**
   * Starts {@code argv} (the first element an absolute path) in {@code directory} with exactly
   * {@code environment}, in a new session, stdin reading /dev/null, stdout and stderr to pipes, no
   * other descriptor, and an empty signal mask. Runs on the calling thread, whose exit later fires
   * the child's parent-death signal if it has one.
   */
  Process start(List<String> argv, Map<String, String> environment, Path directory)
      throws IOException {
    int[] out = newPipe();
    int[] err;
    try {
      err = newPipe();
    } catch (IOException e) {
      closeQuietly(out[0]);
      closeQuietly(out[1]);
      throw e;
    }
    int pid;
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment actions = arena.allocate(OPAQUE, 16);
      MemorySegment attributes = arena.allocate(OPAQUE, 16);
      MemorySegment mask = arena.allocate(OPAQUE, 16);
      check("posix_spawn_file_actions_init", (int) actionsInit.invokeExact(actions));
      try {
        check("posix_spawnattr_init", (int) attrInit.invokeExact(attributes));
        try {
          check(
              "addopen",
              (int) addOpen.invokeExact(actions, 0, arena.allocateFrom("/dev/null"), O_RDONLY, 0));
          check("adddup2", (int) addDup2.invokeExact(actions, out[1], 1));
          check("adddup2", (int) addDup2.invokeExact(actions, err[1], 2));
          check("addclosefrom_np", (int) addCloseFrom.invokeExact(actions, 3));
          check(
              "addchdir_np",
              (int) addChdir.invokeExact(actions, arena.allocateFrom(directory.toString())));
          check("sigemptyset", (int) sigEmptySet.invokeExact(mask));
          check("posix_spawnattr_setsigmask", (int) attrSetSigMask.invokeExact(attributes, mask));
          check(
              "posix_spawnattr_setflags",
              (int)
                  attrSetFlags.invokeExact(
                      attributes, (short) (POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK)));
          MemorySegment pidOut = arena.allocate(INT);
          int result =
              (int)
                  spawn.invokeExact(
                      pidOut,
                      arena.allocateFrom(argv.getFirst()),
                      actions,
                      attributes,
                      strings(arena, argv),
                      strings(
                          arena,
                          environment.entrySet().stream()
                              .map(e -> e.getKey() + "=" + e.getValue())
                              .toList()));
          if (result != 0) {
            throw new IOException(
                "posix_spawn of " + argv.getFirst() + " failed: " + errnoName(result));
          }
          pid = pidOut.get(INT, 0);
        } finally {
          ignore((int) attrDestroy.invokeExact(attributes));
        }
      } finally {
        ignore((int) actionsDestroy.invokeExact(actions));
      }
    } catch (IOException | RuntimeException | Error e) {
      closeAll(out, err);
      throw e;
    } catch (Throwable t) {
      closeAll(out, err);
      throw new IOException("posix_spawn failed", t);
    } finally {
      // The child has its copies (or never will): the parent keeps only the read ends.
      closeQuietly(out[1]);
      closeQuietly(err[1]);
    }
    return new SpawnedProcess(this, pid, out[0], err[0]);
  }

  /** After a failed spawn, the read ends (the caller's finally closes the write ends). */
  private void closeAll(int[] out, int[] err) {
    closeQuietly(out[0]);
    closeQuietly(err[0]);
  }

  /** For results that change nothing: destroying an attribute object, closing a descriptor. */
  private static void ignore(int unused) {}

  /** A NULL-terminated array of C strings. */
  private static MemorySegment strings(Arena arena, List<String> values) {
    MemorySegment array = arena.allocate(ADDRESS, values.size() + 1L);
    for (int i = 0; i < values.size(); i++) {
      array.setAtIndex(ADDRESS, i, arena.allocateFrom(values.get(i)));
    }
    array.setAtIndex(ADDRESS, values.size(), MemorySegment.NULL);
    return array;
  }

  private static void check(String what, int result) throws IOException {
    if (result != 0) {
      throw new IOException(what + " failed: " + errnoName(result));
    }
  }

  /** A pipe, both ends close-on-exec: {read, write}. */
  int[] newPipe() throws IOException {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment fds = arena.allocate(INT, 2);
      MemorySegment state = arena.allocate(CALL_STATE);
      int result = (int) pipe2.invokeExact(state, fds, O_CLOEXEC);
      if (result != 0) {
        throw new IOException("pipe2 failed: " + errnoName((int) ERRNO.get(state, 0L)));
      }
      return new int[] {fds.getAtIndex(INT, 0), fds.getAtIndex(INT, 1)};
    } catch (IOException | RuntimeException | Error e) {
      throw e;
    } catch (Throwable t) {
      throw new IOException("pipe2 failed", t);
    }
  }

  /**
   * Waits for the child {@code pid} to exit and reaps it; returns its exit value as the JDK reports
   * one (the status, or 128 + the signal that killed it).
   */
  int waitFor(int pid) throws IOException {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment status = arena.allocate(INT);
      MemorySegment state = arena.allocate(CALL_STATE);
      while (true) {
        int result;
        try {
          result = (int) waitpid.invokeExact(state, pid, status, 0);
        } catch (RuntimeException | Error e) {
          throw e;
        } catch (Throwable t) {
          throw new IOException("waitpid failed", t);
        }
        if (result == pid) {
          int s = status.get(INT, 0);
          int signal = s & 0x7f;
          // WIFEXITED: no signal; WIFSIGNALED: a signal other than the stop marker 0x7f
          return signal == 0 ? (s >> 8) & 0xff : 128 + signal;
        }
        int errno = (int) ERRNO.get(state, 0L);
        if (errno != EINTR) {
          throw new IOException("waitpid(" + pid + ") failed: " + errnoName(errno));
        }
      }
    }
  }

  void closeQuietly(int fd) {
    try {
      try (Arena arena = Arena.ofConfined()) {
        ignore((int) close.invokeExact(arena.allocate(CALL_STATE), fd));
      }
    } catch (Throwable t) {
      LOG.log(Level.FINE, "close(" + fd + ") failed", t);
    }
  }

  private static String errnoName(int errno) {
    return switch (errno) {
      case 1 -> "operation not permitted (EPERM)";
      case 2 -> "no such file or directory (ENOENT)";
      case 7 -> "argument list too long (E2BIG)";
      case 8 -> "not an executable (ENOEXEC)";
      case 11 -> "resource temporarily unavailable, too many processes? (EAGAIN)";
      case 12 -> "out of memory (ENOMEM)";
      case 13 -> "permission denied (EACCES)";
      case 20 -> "not a directory (ENOTDIR)";
      case 22 -> "invalid argument (EINVAL)";
      case 24 -> "too many open files (EMFILE)";
      default -> "errno " + errno;
    };
  }
}
