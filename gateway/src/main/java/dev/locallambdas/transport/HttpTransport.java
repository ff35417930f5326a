package dev.locallambdas.transport;

import dev.locallambdas.manifest.FunctionSpec;
import dev.locallambdas.manifest.HttpListen;
import dev.locallambdas.manifest.Protocol;
import dev.locallambdas.transport.http.HttpPorts;
import dev.locallambdas.transport.http.HttpReadiness;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * Protocol "http": the child runs its own HTTP/1.1 server and the gateway is a reverse proxy to it.
 * The child listens on a loopback port (HTTP_ADDRESS=127.0.0.1:PORT and PORT) or on a Unix socket
 * in the run directory (HTTP_SOCKET=PATH and HTTP_ADDRESS=unix:PATH).
 */
final class HttpTransport implements Transport {
  /** sun_path holds 108 bytes including the terminating NUL. */
  static final int MAX_SOCKET_PATH_BYTES = 107;

  private final HttpReadiness readiness;

  HttpTransport() {
    this(System::nanoTime);
  }

  HttpTransport(LongSupplier nanos) {
    this.readiness = new HttpReadiness(nanos);
  }

  @Override
  public Endpoint prepare(EndpointContext context) throws IOException {
    FunctionSpec f = context.function();
    if (f.protocol() != Protocol.HTTP) {
      throw new IllegalArgumentException(
          "HttpTransport serves protocol http, not "
              + f.protocol().manifestName()
              + " of "
              + f.id());
    }
    Map<String, String> env = new LinkedHashMap<>();
    if (f.httpListen() == HttpListen.UNIX) {
      Path socket =
          socketPath(
              context.runDirectory(), f.id() + "-" + context.instanceNumber() + ".http.sock");
      Files.deleteIfExists(socket);
      env.put("HTTP_SOCKET", socket.toString());
      env.put("HTTP_ADDRESS", "unix:" + socket);
      return new HttpEndpoint(
          context,
          UnixDomainSocketAddress.of(socket),
          socket.toString(),
          -1,
          socket,
          env,
          readiness);
    }
    int port = HttpPorts.allocateLoopback();
    env.put("HTTP_ADDRESS", "127.0.0.1:" + port);
    env.put("PORT", Integer.toString(port));
    return new HttpEndpoint(
        context,
        new InetSocketAddress(InetAddress.getLoopbackAddress(), port),
        "127.0.0.1:" + port,
        port,
        null,
        env,
        readiness);
  }

  /** An absolute socket path in the run directory, refused when too long for a Unix socket. */
  static Path socketPath(Path runDirectory, String fileName) throws IOException {
    Path socket = runDirectory.toAbsolutePath().resolve(fileName);
    int bytes = socket.toString().getBytes(StandardCharsets.UTF_8).length;
    if (bytes > MAX_SOCKET_PATH_BYTES) {
      throw new IOException(
          "socket path "
              + socket
              + " is "
              + bytes
              + " bytes long, more than the "
              + MAX_SOCKET_PATH_BYTES
              + " a Unix socket allows; use a shorter run directory or function id");
    }
    return socket;
  }
}
