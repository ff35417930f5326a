package dev.locallambdas.bench;

import dev.locallambdas.manifest.FunctionSpec;
import dev.locallambdas.manifest.Protocol;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Stream;
import org.HdrHistogram.Histogram;

/**
 * Talks to a benchmark function with no gateway in between: the floor the gateway is compared
 * against. For a pipe function it plays the gateway's part of docs/protocol.md itself (listens,
 * starts the child with PIPE_ADDRESS, takes its HELLO, sends WELCOME, then times request and
 * response frames). It also times a child's own start-to-ready: spawn until HELLO for a pipe child,
 * spawn until its port accepts a connection for an HTTP child.
 */
final class ChildProbe implements AutoCloseable {
  private static final int HELLO = 0x01;
  private static final int WELCOME = 0x02;
  private static final int REQUEST_HEAD = 0x10;
  private static final int RESPONSE_HEAD = 0x20;
  private static final int RESPONSE_BODY = 0x21;
  private static final int RESET = 0x30;
  private static final int END_STREAM = 0x01;

  private final FunctionSpec spec;
  private final Path dir;
  private Process process;
  private SocketChannel channel;
  private final ByteBuffer in = ByteBuffer.allocate((1 << 20) + 64).flip();

  ChildProbe(FunctionSpec spec) throws IOException {
    this.spec = spec;
    this.dir =
        Files.createTempDirectory(
            "ll-probe-",
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
  }

  /** Starts the child and waits until it is ready; returns spawn-to-ready nanoseconds. */
  long start() throws IOException {
    if (spec.protocol() == Protocol.PIPE) {
      Path sock = dir.resolve("pipe.sock");
      Files.deleteIfExists(sock);
      try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
        server.bind(UnixDomainSocketAddress.of(sock));
        long t0 = System.nanoTime();
        process = launch("PIPE_ADDRESS", sock.toString());
        channel = server.accept();
        Frame hello = readFrame();
        long ready = System.nanoTime() - t0;
        if (hello.type != HELLO) {
          throw new IOException(spec.id() + ": expected HELLO, got frame type " + hello.type);
        }
        ByteBuffer w = ByteBuffer.allocate(64);
        w.putShort((short) 1).putShort((short) 1).putInt(1 << 20);
        byte[] name = spec.id().getBytes(StandardCharsets.UTF_8);
        w.putShort((short) name.length).put(name).flip();
        writeFrame(WELCOME, 0, 0, w);
        Files.deleteIfExists(sock);
        return ready;
      }
    }
    if (spec.protocol() == Protocol.HTTP) {
      int port;
      try (ServerSocket s = new ServerSocket(0)) {
        port = s.getLocalPort();
      }
      long t0 = System.nanoTime();
      process = launch("HTTP_ADDRESS", "127.0.0.1:" + port, "PORT", Integer.toString(port));
      long backoff = 1_000_000;
      while (true) {
        try (Socket s = new Socket()) {
          s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1000);
          return System.nanoTime() - t0;
        } catch (IOException e) {
          if (!process.isAlive()) {
            throw new IOException(
                spec.id() + " exited with status " + process.exitValue() + " before it listened",
                e);
          }
          LockSupport.parkNanos(backoff);
          backoff = Math.min(backoff * 2, 20_000_000);
        }
      }
    }
    throw new IOException(spec.id() + ": protocol " + spec.protocol() + " is not probed");
  }

  private Process launch(String... env) throws IOException {
    List<String> cmd = new ArrayList<>();
    cmd.add(spec.executable());
    cmd.addAll(spec.args());
    ProcessBuilder pb = new ProcessBuilder(cmd);
    if (spec.workingDir() != null) {
      pb.directory(spec.workingDir().toFile());
    }
    pb.environment().putAll(spec.env());
    for (int i = 0; i < env.length; i += 2) {
      pb.environment().put(env[i], env[i + 1]);
    }
    pb.redirectOutput(ProcessBuilder.Redirect.DISCARD);
    pb.redirectError(ProcessBuilder.Redirect.DISCARD);
    return pb.start();
  }

  /** One GET over the pipe, returns the response body size. */
  long get(String target) throws IOException {
    byte[] method = "GET".getBytes(StandardCharsets.US_ASCII);
    byte[] t = target.getBytes(StandardCharsets.UTF_8);
    ByteBuffer p = ByteBuffer.allocate(64 + t.length);
    p.putShort((short) method.length).put(method).putInt(t.length).put(t);
    byte[] hn = "host".getBytes(StandardCharsets.US_ASCII);
    byte[] hv = "localhost".getBytes(StandardCharsets.US_ASCII);
    p.putShort((short) 1).putShort((short) hn.length).put(hn).putInt(hv.length).put(hv).flip();
    writeFrame(REQUEST_HEAD, END_STREAM, 1, p);
    long body = 0;
    while (true) {
      Frame f = readFrame();
      if (f.type == RESET) {
        throw new IOException("the child reset the request");
      }
      if (f.type == RESPONSE_BODY) {
        body += f.length;
      } else if (f.type != RESPONSE_HEAD) {
        throw new IOException("unexpected frame type " + f.type);
      }
      if ((f.flags & END_STREAM) != 0) {
        return body;
      }
    }
  }

  private record Frame(int type, int flags, int stream, int length) {}

  private Frame readFrame() throws IOException {
    fill(10);
    int length = in.getInt();
    int type = in.get() & 0xFF;
    int flags = in.get() & 0xFF;
    int stream = in.getInt();
    fill(length);
    in.position(in.position() + length);
    return new Frame(type, flags, stream, length);
  }

  private void fill(int n) throws IOException {
    while (in.remaining() < n) {
      in.compact();
      if (channel.read(in) < 0) {
        throw new IOException("the child closed the connection");
      }
      in.flip();
    }
  }

  private void writeFrame(int type, int flags, int stream, ByteBuffer payload) throws IOException {
    ByteBuffer h = ByteBuffer.allocate(10);
    h.putInt(payload.remaining()).put((byte) type).put((byte) flags).putInt(stream).flip();
    ByteBuffer[] both = {h, payload};
    while (h.hasRemaining() || payload.hasRemaining()) {
      channel.write(both);
    }
  }

  @Override
  public void close() {
    if (channel != null) {
      try {
        channel.close(); // SDK children exit on end-of-file
      } catch (IOException e) {
        // the child is stopped below regardless
      }
    }
    if (process != null) {
      if (spec.protocol() != Protocol.PIPE) {
        process.destroy();
      }
      try {
        if (!process.waitFor(5, TimeUnit.SECONDS)) {
          process.destroyForcibly();
          process.waitFor(5, TimeUnit.SECONDS);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        process.destroyForcibly();
      }
    }
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    } catch (IOException e) {
      // a leftover empty temp directory is harmless
    }
  }

  /** Spawn to exit of a program that does nothing (e.g. /bin/true): the floor of any start. */
  static long spawnToExit(String program) throws IOException, InterruptedException {
    long t0 = System.nanoTime();
    Process p =
        new ProcessBuilder(program)
            .redirectOutput(ProcessBuilder.Redirect.DISCARD)
            .redirectError(ProcessBuilder.Redirect.DISCARD)
            .start();
    p.waitFor();
    return System.nanoTime() - t0;
  }

  static Histogram histogram() {
    return new Histogram(3);
  }
}
