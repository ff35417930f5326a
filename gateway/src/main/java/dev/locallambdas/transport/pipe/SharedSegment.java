package dev.locallambdas.transport.pipe;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.buffer.UnpooledDirectByteBuf;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * One instance's shared-memory segment (docs/protocol.md section 8.2): a sealed memfd, created
 * through FFM, sized once and mapped into a shared arena. The child opens it through the path
 * {@code /proc/<gateway pid>/fd/<n>} until it says it has mapped it; then the descriptor is closed
 * and only the two mappings keep the memory. A memfd has no name, so nothing outlives the two
 * processes, whatever happens to them.
 *
 * <p>The mapping is counted: the endpoint holds one reference and every slot buffer handed to the
 * front door another, so the memory is unmapped only when nothing can touch it any more (a client
 * may still be writing a response from it after the instance died). Thread-safe.
 */
final class SharedSegment {
  private static final Logger LOG = Logger.getLogger("dev.locallambdas.transport.pipe");

  static final int MAGIC = 0x4C4C534D; // "LLSM"
  static final int LAYOUT = 1;
  static final int DATA_OFFSET = 4096;
  static final int MIN_SLOT = 64 * 1024;
  static final int MAX_SLOT = 1024 * 1024;
  static final int MAX_SLOTS_PER_SIDE = 16;

  private final Native natives;
  private final int fd;
  private final String path;
  private final Arena arena;
  private final MemorySegment memory;
  private final int slotSize;
  private final int slotCount;
  private final AtomicInteger references = new AtomicInteger(1);
  private boolean descriptorClosed;

  private SharedSegment(
      Native natives,
      int fd,
      String path,
      Arena arena,
      MemorySegment memory,
      int slotSize,
      int slotCount) {
    this.natives = natives;
    this.fd = fd;
    this.path = path;
    this.arena = arena;
    this.memory = memory;
    this.slotSize = slotSize;
    this.slotCount = slotCount;
  }

  /** The slot size for a function's body limit: the limit rounded up to 64 KiB, within bounds. */
  static int slotSizeFor(long maxBodyBytes) {
    long rounded = (Math.max(maxBodyBytes, 1) + MIN_SLOT - 1) / MIN_SLOT * MIN_SLOT;
    return (int) Math.min(MAX_SLOT, Math.max(MIN_SLOT, rounded));
  }

  /** Slots per side for a concurrency: one per request in flight, at most 16. */
  static int slotsFor(int concurrency) {
    return Math.min(Math.max(concurrency, 1), MAX_SLOTS_PER_SIDE);
  }

  /**
   * Creates and maps a segment of {@code 2 * slotsPerSide} slots, or throws IOException saying why
   * it cannot (no native access, not Linux, out of memory): the caller then goes without.
   */
  @SuppressWarnings("MustBeClosedChecker") // the arena lives until release() drops the last use
  static SharedSegment create(String label, int slotSize, int slotsPerSide) throws IOException {
    Native n = Native.get();
    int slotCount = 2 * slotsPerSide;
    long size = DATA_OFFSET + (long) slotCount * slotSize;
    int fd = n.memfd("local-lambdas:" + label);
    Arena arena = null;
    try {
      n.truncate(fd, size);
      n.seal(fd);
      String self = "/proc/self/fd/" + fd;
      arena = Arena.ofShared();
      MemorySegment memory;
      try (FileChannel ch =
          FileChannel.open(Path.of(self), StandardOpenOption.READ, StandardOpenOption.WRITE)) {
        memory = ch.map(FileChannel.MapMode.READ_WRITE, 0, size, arena);
      }
      ByteBuffer header = memory.asSlice(0, DATA_OFFSET).asByteBuffer().order(ByteOrder.BIG_ENDIAN);
      header
          .putInt(MAGIC)
          .putInt(LAYOUT)
          .putInt(DATA_OFFSET)
          .putInt(slotSize)
          .putShort((short) slotsPerSide)
          .putShort((short) slotsPerSide);
      String path = "/proc/" + ProcessHandle.current().pid() + "/fd/" + fd;
      return new SharedSegment(n, fd, path, arena, memory, slotSize, slotCount);
    } catch (IOException | RuntimeException e) {
      if (arena != null) {
        arena.close();
      }
      n.close(fd);
      throw e instanceof IOException io ? io : new IOException(e.getMessage(), e);
    }
  }

  /** Where the child opens the segment (valid until {@link #attached}). */
  String path() {
    return path;
  }

  int slotSize() {
    return slotSize;
  }

  int slotCount() {
    return slotCount;
  }

  /** A view of slot {@code slot}'s memory: position 0, limit the slot size. */
  ByteBuffer slot(int slot) {
    return memory.asSlice(DATA_OFFSET + (long) slot * slotSize, slotSize).asByteBuffer();
  }

  /**
   * The first {@code length} bytes of a slot as a buffer for the front door: no copy; when its last
   * reference is released, {@code onRelease} runs (on whatever thread released it) and the segment
   * loses the reference the buffer held.
   */
  ByteBuf wrap(int slot, int length, Runnable onRelease) {
    ByteBuffer view = slot(slot).limit(length);
    references.incrementAndGet();
    return new SlotBuffer(view, onRelease);
  }

  /** The child has mapped the segment: nobody needs the path any more. */
  synchronized void attached() {
    closeDescriptor();
  }

  /** Drops the endpoint's reference (idempotence is the caller's). */
  void release() {
    if (references.decrementAndGet() == 0) {
      synchronized (this) {
        closeDescriptor();
      }
      arena.close(); // unmaps
    }
  }

  private void closeDescriptor() {
    if (!descriptorClosed) {
      descriptorClosed = true;
      natives.close(fd);
    }
  }

  /** A slot's bytes as a ByteBuf; deallocating it gives the slot back. */
  private final class SlotBuffer extends UnpooledDirectByteBuf {
    private final Runnable onRelease;

    SlotBuffer(ByteBuffer view, Runnable onRelease) {
      super(UnpooledByteBufAllocator.DEFAULT, view, view.remaining());
      this.onRelease = onRelease;
    }

    @Override
    protected void deallocate() {
      super.deallocate(); // the wrapped memory is not freed: it is the segment's
      try {
        onRelease.run();
      } finally {
        SharedSegment.this.release();
      }
    }
  }

  /** memfd_create, ftruncate, fcntl(F_ADD_SEALS) and close from the C library, loaded once. */
  private static final class Native {
    private static final int MFD_CLOEXEC = 0x1;
    private static final int MFD_ALLOW_SEALING = 0x2;
    private static final int F_ADD_SEALS = 1024 + 9;
    private static final int F_SEAL_SEAL = 0x1;
    private static final int F_SEAL_SHRINK = 0x2;
    private static final int F_SEAL_GROW = 0x4;
    private static final StructLayout CALL_STATE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO =
        CALL_STATE.varHandle(java.lang.foreign.MemoryLayout.PathElement.groupElement("errno"));

    private static volatile Native instance;
    private static volatile String unavailable;

    private final MethodHandle memfdCreate;
    private final MethodHandle ftruncate;
    private final MethodHandle fcntl;
    private final MethodHandle close;

    @SuppressWarnings("restricted") // native access is granted by the launcher; else unavailable
    private Native() {
      Linker linker = Linker.nativeLinker();
      SymbolLookup libc = linker.defaultLookup();
      Linker.Option errno = Linker.Option.captureCallState("errno");
      memfdCreate =
          linker.downcallHandle(
              find(libc, "memfd_create"),
              FunctionDescriptor.of(
                  ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT),
              errno);
      ftruncate =
          linker.downcallHandle(
              find(libc, "ftruncate"),
              FunctionDescriptor.of(
                  ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG),
              errno);
      fcntl =
          linker.downcallHandle(
              find(libc, "fcntl"),
              FunctionDescriptor.of(
                  ValueLayout.JAVA_INT,
                  ValueLayout.JAVA_INT,
                  ValueLayout.JAVA_INT,
                  ValueLayout.JAVA_INT),
              Linker.Option.firstVariadicArg(2),
              errno);
      close =
          linker.downcallHandle(
              find(libc, "close"),
              FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
    }

    private static MemorySegment find(SymbolLookup libc, String name) {
      return libc.find(name)
          .orElseThrow(() -> new UnsupportedOperationException(name + " is not in the C library"));
    }

    static Native get() throws IOException {
      Native n = instance;
      if (n != null) {
        return n;
      }
      if (unavailable != null) {
        throw new IOException(unavailable);
      }
      synchronized (Native.class) {
        if (instance == null && unavailable == null) {
          try {
            if (!System.getProperty("os.name", "").equals("Linux")
                || !Files.isDirectory(Path.of("/proc/self/fd"))) {
              throw new UnsupportedOperationException("memfd needs Linux with /proc");
            }
            instance = new Native();
          } catch (RuntimeException | LinkageError e) {
            unavailable = "shared memory is not available: " + e.getMessage();
            LOG.log(Level.FINE, unavailable, e);
          }
        }
        if (instance == null) {
          throw new IOException(unavailable);
        }
        return instance;
      }
    }

    int memfd(String name) throws IOException {
      try (Arena a = Arena.ofConfined()) {
        MemorySegment state = a.allocate(CALL_STATE);
        int fd =
            (int)
                memfdCreate.invokeExact(
                    state, a.allocateFrom(name), MFD_CLOEXEC | MFD_ALLOW_SEALING);
        if (fd < 0) {
          throw new IOException("memfd_create failed: errno " + (int) ERRNO.get(state, 0L));
        }
        return fd;
      } catch (IOException | RuntimeException | Error e) {
        throw e;
      } catch (Throwable t) {
        throw new IOException("memfd_create failed", t);
      }
    }

    void truncate(int fd, long size) throws IOException {
      try (Arena a = Arena.ofConfined()) {
        MemorySegment state = a.allocate(CALL_STATE);
        if ((int) ftruncate.invokeExact(state, fd, size) != 0) {
          throw new IOException(
              "ftruncate of a memfd to "
                  + size
                  + " bytes failed: errno "
                  + (int) ERRNO.get(state, 0L));
        }
      } catch (IOException | RuntimeException | Error e) {
        throw e;
      } catch (Throwable t) {
        throw new IOException("ftruncate failed", t);
      }
    }

    void seal(int fd) throws IOException {
      try (Arena a = Arena.ofConfined()) {
        MemorySegment state = a.allocate(CALL_STATE);
        int seals = F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL;
        if ((int) fcntl.invokeExact(state, fd, F_ADD_SEALS, seals) != 0) {
          throw new IOException("sealing a memfd failed: errno " + (int) ERRNO.get(state, 0L));
        }
      } catch (IOException | RuntimeException | Error e) {
        throw e;
      } catch (Throwable t) {
        throw new IOException("fcntl failed", t);
      }
    }

    void close(int fd) {
      try {
        if ((int) close.invokeExact(fd) != 0) {
          LOG.fine("closing memfd " + fd + " failed");
        }
      } catch (Throwable t) {
        LOG.log(Level.WARNING, "closing memfd " + fd + " failed", t);
      }
    }
  }
}
