package dev.locallambdas.transport;

import dev.locallambdas.loops.EventLoops;
import dev.locallambdas.manifest.FunctionSpec;
import io.netty.channel.EventLoop;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What a transport needs to prepare one instance's endpoint: the function, the instance's number
 * (unique per function for the gateway's lifetime), the gateway's private run directory (mode 0700)
 * where socket files go, the event loops, and the loop this instance should live on (the loop of
 * the request that asked for it, so that request and connection share a thread).
 */
public record EndpointContext(
    FunctionSpec function,
    int instanceNumber,
    Path runDirectory,
    EventLoops loops,
    EventLoop loop) {
  /** A context without event loops, for endpoints that do not use them. */
  public EndpointContext(FunctionSpec function, int instanceNumber, Path runDirectory) {
    this(function, instanceNumber, runDirectory, null, null);
  }

  /** sun_path holds 108 bytes including the terminating NUL. */
  public static final int MAX_SOCKET_PATH_BYTES = 107;

  /** "function#3", for logs and socket file names. */
  public String label() {
    return function.id() + "#" + instanceNumber;
  }

  /**
   * An absolute path for a socket file in the run directory, refused when too long for a Unix
   * socket. A file left there by an earlier gateway is removed (it would make bind fail).
   */
  public Path socketFile(String fileName) throws IOException {
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
    Files.deleteIfExists(socket);
    return socket;
  }
}
