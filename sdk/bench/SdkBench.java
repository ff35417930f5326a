import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.TimeUnit;

/**
 * A fake gateway that measures pipe SDKs alone: it starts each child with PIPE_ADDRESS, speaks
 * the pipe protocol (version 2 when the child offers it and --max-version allows, else 1) with
 * concurrency 1, and counts requests per second, one request at a time on one connection.
 *
 * <pre>
 * java sdk/bench/SdkBench.java [--rounds 5] [--seconds 2] [--cases get,echo] [--size 262144]
 *     [--max-version 2] NAME='shell command' ...
 * </pre>
 *
 * Each measurement prints requests per second and the child's CPU time per request (user + system,
 * from /proc/PID/stat of the pid in its HELLO), which a busy machine disturbs much less.
 *
 * <p>Cases: {@code get} is a small GET (a fixed JSON answer), {@code echo} a POST of --size random
 * bytes sent back by the function, checked byte for byte. Children are measured in turns, round
 * after round, so that the machine's changing load hits them alike; the summary gives the median
 * of each and its ratio to the first child of its family (the name up to the first '-', e.g.
 * {@code py-before} for {@code py-after}). The functions: sdk/bench/pipe_function.{py,js} and
 * bench/functions/java's PipeFunction.
 */
public final class SdkBench {
  static final int HELLO = 1, WELCOME = 2, REQUEST_HEAD = 0x10, REQUEST_BODY = 0x11;
  static final int RESPONSE_HEAD = 0x20, RESPONSE_BODY = 0x21, RESET = 0x30, CREDIT = 0x31;
  static final int END = 1, WINDOW = 256 * 1024, CHUNK = 64 * 1024;

  public static void main(String[] args) throws Exception {
    int rounds = 5, seconds = 2, size = 256 * 1024, maxVersion = 2;
    List<String> cases = List.of("get", "echo");
    Map<String, String> children = new LinkedHashMap<>();
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--rounds" -> rounds = Integer.parseInt(args[++i]);
        case "--seconds" -> seconds = Integer.parseInt(args[++i]);
        case "--size" -> size = Integer.parseInt(args[++i]);
        case "--max-version" -> maxVersion = Integer.parseInt(args[++i]);
        case "--cases" -> cases = List.of(args[++i].split(","));
        default -> {
          int eq = args[i].indexOf('=');
          children.put(args[i].substring(0, eq), args[i].substring(eq + 1));
        }
      }
    }
    Map<String, List<Double>> results = new LinkedHashMap<>();
    Map<String, List<Double>> cpu = new LinkedHashMap<>();
    for (int round = 1; round <= rounds; round++) {
      for (Map.Entry<String, String> child : children.entrySet()) {
        try (Child c = new Child(child.getValue(), maxVersion)) {
          for (String name : cases) {
            c.run(name, size, 500); // warm-up
            long[] ticks = c.cpuTicks();
            int before = c.id;
            double rate = c.run(name, size, seconds * 1000L);
            long[] after = c.cpuTicks();
            int count = c.id - before;
            double micros = (after[0] + after[1] - ticks[0] - ticks[1]) * 10_000.0 / count;
            double system = (after[1] - ticks[1]) * 10_000.0 / count;
            results.computeIfAbsent(name + " " + child.getKey(), k -> new ArrayList<>()).add(rate);
            cpu.computeIfAbsent(name + " " + child.getKey(), k -> new ArrayList<>()).add(micros);
            System.out.printf(
                "round %d  %-6s %-16s v%d  %9.0f req/s  %7.1f us CPU/req (%.1f in the kernel)%n",
                round, name, child.getKey(), c.version, rate, micros, system);
          }
        }
      }
    }
    System.out.println();
    System.out.printf(
        "%-6s %-16s %10s %7s %14s %7s   (medians of %d rounds; ratios within a family)%n",
        "case", "child", "req/s", "ratio", "CPU us/req", "ratio", rounds);
    for (String name : cases) {
      Map<String, double[]> firsts = new LinkedHashMap<>();
      for (String child : children.keySet()) {
        double rate = median(results.get(name + " " + child));
        double micros = median(cpu.get(name + " " + child));
        double[] first = firsts.computeIfAbsent(child.split("-")[0], k -> new double[] {rate, micros});
        double firstRate = first[0], firstCpu = first[1];
        System.out.printf(
            "%-6s %-16s %10.0f %6.2fx %14.1f %6.2fx%n",
            name, child, rate, rate / firstRate, micros, micros / firstCpu);
      }
    }
  }

  static double median(List<Double> values) {
    double[] v = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
    return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
  }

  /** One child process and its connection. */
  static final class Child implements AutoCloseable {
    final Path dir;
    final Process process;
    final SocketChannel channel;
    final DataInputStream in;
    final int version;
    final long pid;
    final SynchronousQueue<byte[]> bodies = new SynchronousQueue<>();
    final Thread writer;
    final Object windowLock = new Object();
    long requestWindow;
    int id;
    int writingId;

    Child(String command, int maxVersion) throws Exception {
      dir = Files.createTempDirectory("sdkbench");
      Path socket = dir.resolve("pipe.sock");
      ServerSocketChannel listener = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
      listener.bind(UnixDomainSocketAddress.of(socket));
      ProcessBuilder builder = new ProcessBuilder("sh", "-c", command).inheritIO();
      builder.environment().put("PIPE_ADDRESS", socket.toString());
      process = builder.start();
      channel = listener.accept();
      listener.close();
      in = new DataInputStream(new BufferedInputStream(Channels.newInputStream(channel), 1 << 17));
      Frame hello = read();
      ByteBuffer h = ByteBuffer.wrap(hello.payload);
      int min = h.getShort() & 0xFFFF, max = h.getShort() & 0xFFFF;
      pid = h.getInt() & 0xFFFFFFFFL;
      version = Math.min(max, maxVersion);
      if (version < min) {
        throw new IllegalStateException("child speaks " + min + ".." + max);
      }
      ByteBuffer w = ByteBuffer.allocate(64);
      w.putShort((short) version).putShort((short) 1).putInt(1 << 20);
      w.putShort((short) 5).put("bench".getBytes(StandardCharsets.US_ASCII));
      if (version == 2) {
        w.putInt(WINDOW).putInt(0);
      }
      send(WELCOME, 0, 0, Arrays.copyOf(w.array(), w.position()));
      writer = Thread.ofPlatform().daemon().start(this::writeBodies);
    }

    /** utime and stime of the child, in clock ticks (10 ms). */
    long[] cpuTicks() throws IOException {
      String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
      String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      return new long[] {Long.parseLong(fields[11]), Long.parseLong(fields[12])};
    }

    /** Requests per second of one case, one request at a time, for about millis. */
    double run(String name, int size, long millis) throws Exception {
      byte[] body = new byte[name.equals("echo") ? size : 0];
      new Random(id).nextBytes(body);
      byte[] head = requestHead(name.equals("echo") ? "POST" : "GET", "/bench/" + name);
      long start = System.nanoTime(), end = start + millis * 1_000_000L;
      int count = 0;
      do {
        for (int i = 0; i < 20; i++, count++) {
          exchange(head, body);
        }
      } while (System.nanoTime() < end);
      return count / ((System.nanoTime() - start) / 1e9);
    }

    void exchange(byte[] head, byte[] body) throws Exception {
      int stream = ++id;
      if (body.length == 0) {
        send(REQUEST_HEAD, END, stream, head);
      } else {
        synchronized (windowLock) {
          requestWindow = version == 2 ? WINDOW : Long.MAX_VALUE;
          writingId = stream;
        }
        send(REQUEST_HEAD, 0, stream, head);
        bodies.put(body);
      }
      int received = 0, unacked = 0;
      boolean headSeen = false;
      while (true) {
        Frame f = read();
        if (f.stream != stream) {
          throw new IllegalStateException("frame for stream " + f.stream + " during " + stream);
        }
        switch (f.type) {
          case RESPONSE_HEAD -> headSeen = true;
          case RESPONSE_BODY -> {
            if (!headSeen) {
              throw new IllegalStateException("RESPONSE_BODY before RESPONSE_HEAD");
            }
            if (body.length > 0
                && (received + f.payload.length > body.length
                    || !Arrays.equals(f.payload, 0, f.payload.length, body, received, received + f.payload.length))) {
              throw new IllegalStateException("echo differs at byte " + received);
            }
            received += f.payload.length;
            unacked += f.payload.length;
            if (version == 2 && unacked >= WINDOW / 2 && (f.flags & END) == 0) {
              send(CREDIT, 0, stream, ByteBuffer.allocate(4).putInt(unacked).array());
              unacked = 0;
            }
          }
          case CREDIT -> {
            synchronized (windowLock) {
              requestWindow += ByteBuffer.wrap(f.payload).getInt();
              windowLock.notifyAll();
            }
          }
          case RESET -> throw new IllegalStateException("child reset: " + new String(f.payload, StandardCharsets.UTF_8));
          default -> throw new IllegalStateException("unexpected frame type " + f.type);
        }
        if ((f.flags & END) != 0) {
          if (received != body.length && body.length > 0) {
            throw new IllegalStateException("echo of " + received + " bytes, sent " + body.length);
          }
          return;
        }
      }
    }

    /** Sends request bodies in 64 KiB frames within the request window, while main reads. */
    void writeBodies() {
      try {
        while (true) {
          byte[] body = bodies.take();
          int offset = 0;
          while (offset < body.length) {
            int n;
            int stream;
            synchronized (windowLock) {
              while (requestWindow == 0) {
                windowLock.wait();
              }
              n = (int) Math.min(Math.min(CHUNK, body.length - offset), requestWindow);
              requestWindow -= n;
              stream = writingId;
            }
            send(REQUEST_BODY, offset + n == body.length ? END : 0, stream, Arrays.copyOfRange(body, offset, offset + n));
            offset += n;
          }
        }
      } catch (InterruptedException | IOException e) {
        // closing
      }
    }

    byte[] requestHead(String method, String target) {
      ByteBuffer b = ByteBuffer.allocate(512);
      putStr16(b, method);
      byte[] t = target.getBytes(StandardCharsets.UTF_8);
      b.putInt(t.length).put(t);
      String[][] headers = {
        {"host", "127.0.0.1:8080"}, {"user-agent", "sdkbench"}, {"accept", "*/*"},
        {"x-forwarded-for", "127.0.0.1"}, {"x-forwarded-proto", "http"}
      };
      b.putShort((short) headers.length);
      for (String[] h : headers) {
        putStr16(b, h[0]);
        byte[] v = h[1].getBytes(StandardCharsets.UTF_8);
        b.putInt(v.length).put(v);
      }
      if (version == 2) {
        b.putInt(30_000);
      }
      return Arrays.copyOf(b.array(), b.position());
    }

    static void putStr16(ByteBuffer b, String s) {
      byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
      b.putShort((short) bytes.length).put(bytes);
    }

    synchronized void send(int type, int flags, int stream, byte[] payload) throws IOException {
      ByteBuffer header = ByteBuffer.allocate(10);
      header.putInt(payload.length).put((byte) type).put((byte) flags).putInt(stream).flip();
      ByteBuffer[] buffers = {header, ByteBuffer.wrap(payload)};
      while (buffers[1].hasRemaining() || buffers[0].hasRemaining()) {
        channel.write(buffers);
      }
    }

    record Frame(int type, int flags, int stream, byte[] payload) {}

    Frame read() throws IOException {
      int length = in.readInt();
      int type = in.readUnsignedByte(), flags = in.readUnsignedByte(), stream = in.readInt();
      byte[] payload = new byte[length];
      in.readFully(payload);
      return new Frame(type, flags, stream, payload);
    }

    @Override
    public void close() throws Exception {
      writer.interrupt();
      channel.close();
      if (!process.waitFor(5, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor();
      }
      Files.deleteIfExists(dir.resolve("pipe.sock"));
      Files.deleteIfExists(dir);
    }
  }

  static {
    // EOFException from a child that died is a failure of the run, not something to hide.
    Thread.setDefaultUncaughtExceptionHandler((t, e) -> {
      if (!(e instanceof EOFException)) {
        e.printStackTrace();
      }
    });
  }
}
