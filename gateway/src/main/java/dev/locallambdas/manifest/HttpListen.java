package dev.locallambdas.manifest;

/** Where an HTTP-mode child's server listens. */
public enum HttpListen {
  /** A loopback TCP port allocated by the gateway (HTTP_ADDRESS=127.0.0.1:PORT, PORT). */
  TCP,
  /** A Unix socket path in the gateway's private run directory (HTTP_SOCKET). */
  UNIX
}
