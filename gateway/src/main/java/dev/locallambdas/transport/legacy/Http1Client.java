package dev.locallambdas.transport.legacy;

import dev.locallambdas.exchange.BodySource;
import dev.locallambdas.exchange.Headers;
import dev.locallambdas.transport.TransportException;
import java.io.IOException;
import java.net.SocketAddress;
import java.util.ArrayDeque;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A small, strict, blocking HTTP/1.1 client for one child's server, with a keep-alive pool.
 *
 * <p>Why not the JDK's HttpClient: it cannot use Unix domain sockets and refuses to send Host and
 * Connection headers. Why not Netty's client: it is asynchronous, while each request here runs on
 * its own virtual thread that simply blocks. So this client is a few hundred lines of blocking NIO
 * that parse exactly the responses a proxy may forward.
 *
 * <p>Idle connections are reused last-in first-out (the most recently used one is the least likely
 * to have been closed by the child's idle timeout) and at most {@code maxIdle} are kept.
 */
final class Http1Client implements AutoCloseable {
  private final SocketAddress address;
  private final String peer;
  private final String host;
  private final int maxIdle;
  private final ReentrantLock lock = new ReentrantLock();
  private final ArrayDeque<Http1Connection> idle = new ArrayDeque<>();
  private final Set<Http1Connection> open = ConcurrentHashMap.newKeySet();
  private volatile boolean closed;

  /**
   * @param peer a description for messages, e.g. "child 'api#2' at 127.0.0.1:41234"
   * @param host the Host field sent when the request carries none
   */
  Http1Client(SocketAddress address, String peer, String host, int maxIdle) {
    this.address = address;
    this.peer = peer;
    this.host = host;
    this.maxIdle = maxIdle;
  }

  /**
   * Sends a request and returns the response once its head has arrived. The caller reads the body
   * and closes the response. A request that failed on a reused connection before any byte was sent
   * is retried once on a fresh connection, and so is an idempotent request without a body whose
   * reused connection closed before any byte of an answer.
   */
  Http1Response send(String method, String target, Headers headers, BodySource body)
      throws IOException {
    boolean retried = false;
    while (true) {
      if (closed) {
        throw new TransportException(
            TransportException.Kind.NOT_DELIVERED, "the endpoint of " + peer + " is closed");
      }
      Http1Connection connection = takeIdle();
      boolean reused = connection != null;
      if (connection == null) {
        connection = Http1Connection.open(address, peer);
        open.add(connection);
        if (closed) {
          discard(connection);
          continue;
        }
      }
      try {
        connection.writeRequest(method, target, headers, host, body);
      } catch (TransportException e) {
        discard(connection);
        if (reused && !retried && e.kind() == TransportException.Kind.NOT_DELIVERED) {
          retried = true;
          continue;
        }
        throw e;
      } catch (IOException | RuntimeException | Error e) {
        discard(connection);
        throw e;
      }
      try {
        Http1Response.Head head = connection.readHead(method.equals("HEAD"));
        return new Http1Response(this, connection, head);
      } catch (TransportException e) {
        discard(connection);
        if (reused
            && !retried
            && e.kind() == TransportException.Kind.CHILD_FAILED
            && !connection.responseStarted()
            && body.length() == 0
            && idempotent(method)) {
          // The child closed the idle connection just as the request went out (the keep-alive
          // race): repeating an idempotent request without a body is safe (RFC 9112 9.3.1).
          retried = true;
          continue;
        }
        throw e;
      } catch (IOException | RuntimeException | Error e) {
        discard(connection);
        throw e;
      }
    }
  }

  private static boolean idempotent(String method) {
    return switch (method) {
      case "GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE" -> true;
      default -> false;
    };
  }

  private Http1Connection takeIdle() {
    while (true) {
      Http1Connection c;
      lock.lock();
      try {
        c = idle.pollFirst();
      } finally {
        lock.unlock();
      }
      if (c == null) {
        return null;
      }
      if (c.stillUsable()) {
        return c;
      }
      discard(c);
    }
  }

  void release(Http1Connection connection) {
    lock.lock();
    try {
      if (!closed && idle.size() < maxIdle) {
        idle.addFirst(connection);
        return;
      }
    } finally {
      lock.unlock();
    }
    discard(connection);
  }

  void discard(Http1Connection connection) {
    open.remove(connection);
    connection.close();
  }

  /** Connections currently open, idle or in use; for tests and diagnostics. */
  int openConnections() {
    return open.size();
  }

  /** Closes every connection, making exchanges in progress fail. Idempotent. */
  @Override
  public void close() {
    closed = true;
    lock.lock();
    try {
      idle.clear();
    } finally {
      lock.unlock();
    }
    for (Http1Connection c : open) {
      discard(c);
    }
  }
}
