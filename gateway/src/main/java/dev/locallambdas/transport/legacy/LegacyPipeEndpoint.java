package dev.locallambdas.transport.legacy;

import dev.locallambdas.exchange.BodySource;
import dev.locallambdas.exchange.Request;
import dev.locallambdas.exchange.ResponseSink;
import dev.locallambdas.transport.BlockingEndpoint;
import dev.locallambdas.transport.EndpointContext;
import dev.locallambdas.transport.TransportException;
import dev.locallambdas.transport.http.HttpPorts;
import dev.locallambdas.transport.http.HttpReadiness;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/** The gateway's side of one legacy-pipe child: a connection per request to the child's socket. */
final class LegacyPipeEndpoint extends BlockingEndpoint {
  private final String label;
  private final Path socket;
  private final UnixDomainSocketAddress address;
  private final long maxBodyBytes;
  private final HttpReadiness readiness;
  private final Set<SocketChannel> inFlight = ConcurrentHashMap.newKeySet();
  private final LegacyAnswerLog answers = new LegacyAnswerLog();
  private volatile boolean closed;
  private volatile String lastProblem;

  LegacyPipeEndpoint(EndpointContext context, Path socket, HttpReadiness readiness) {
    this.label = "child '" + context.label() + "'";
    this.socket = socket;
    this.address = UnixDomainSocketAddress.of(socket);
    this.maxBodyBytes = context.function().maxBodyBytes();
    this.readiness = readiness;
  }

  @Override
  public Map<String, String> environment() {
    return Map.of("PIPE_ADDRESS", socket.toString());
  }

  /**
   * Polls for the child's listening socket. On Linux this reads /proc/net/unix instead of
   * connecting: children written for the original never saw an empty probe connection (it slept two
   * seconds instead), and one that reads until its input parses as JSON would spin forever on it.
   * Elsewhere it falls back to probing with a connection.
   */
  @Override
  public void awaitReady(Duration timeout, ProcessHandle process)
      throws IOException, InterruptedException {
    readiness.await(
        label,
        "listen on " + socket,
        timeout,
        process,
        () -> {
          Boolean listening = HttpPorts.unixListening(socket);
          if (listening != null) {
            return listening;
          }
          return HttpReadiness.connects(address, label, problem -> lastProblem = problem);
        },
        () -> lastProblem);
  }

  @Override
  protected void exchange(Request request, BodySource body, ResponseSink sink) throws IOException {
    byte[] message = LegacyMessages.request(request, LegacyMessages.readBody(body, maxBodyBytes));
    byte[] answer;
    SocketChannel channel;
    try {
      channel = SocketChannel.open(address);
    } catch (ClosedByInterruptException e) {
      throw HttpReadiness.interrupted("connecting to " + label, e);
    } catch (IOException e) {
      throw new TransportException(
          TransportException.Kind.NOT_DELIVERED,
          "cannot connect to " + label + " at " + socket + ": " + e.getMessage(),
          e);
    }
    inFlight.add(channel);
    try (channel) {
      if (closed) {
        throw new TransportException(
            TransportException.Kind.NOT_DELIVERED, "the endpoint of " + label + " is closed");
      }
      send(channel, message);
      answer = receive(channel);
    } finally {
      inFlight.remove(channel);
    }
    LegacyMessages.Answer a = LegacyMessages.answer(answer, label, answers);
    sink.head(a.status(), a.headers(), a.body().length);
    if (a.body().length > 0) {
      sink.body(ByteBuffer.wrap(a.body()));
    }
    sink.end();
  }

  // The original never half-closed its side: children find the end of the request by parsing it.
  private void send(SocketChannel channel, byte[] message) throws IOException {
    ByteBuffer out = ByteBuffer.wrap(message);
    try {
      while (out.hasRemaining()) {
        channel.write(out);
      }
    } catch (ClosedByInterruptException e) {
      throw HttpReadiness.interrupted("sending to " + label, e);
    } catch (IOException e) {
      throw new TransportException(
          out.position() == 0
              ? TransportException.Kind.NOT_DELIVERED
              : TransportException.Kind.CHILD_FAILED,
          label + " closed the connection while the request was being sent: " + e.getMessage(),
          e);
    }
  }

  private byte[] receive(SocketChannel channel) throws IOException {
    ByteArrayOutputStream answer = new ByteArrayOutputStream(1024);
    ByteBuffer in = ByteBuffer.allocate(64 * 1024);
    try {
      while (channel.read(in.clear()) >= 0) {
        if (answer.size() + (long) in.position() > LegacyMessages.MAX_ANSWER_BYTES) {
          // Refused unread: an answer is held in memory whole. The child is still serving.
          throw answers.refuse(
              "too-large",
              label + " answered more than " + LegacyMessages.MAX_ANSWER_BYTES + " bytes");
        }
        answer.write(in.array(), 0, in.position());
      }
    } catch (ClosedByInterruptException e) {
      throw HttpReadiness.interrupted("waiting for " + label, e);
    } catch (AsynchronousCloseException e) {
      throw new TransportException(
          TransportException.Kind.CHILD_FAILED, "the connection to " + label + " was closed", e);
    } catch (TransportException e) {
      throw e;
    } catch (IOException e) {
      throw new TransportException(
          TransportException.Kind.CHILD_FAILED,
          "reading the answer of " + label + " failed: " + e.getMessage(),
          e);
    }
    if (answer.size() == 0) {
      throw new TransportException(
          TransportException.Kind.CHILD_FAILED, label + " closed the connection without answering");
    }
    return answer.toByteArray();
  }

  @Override
  public void close() {
    closed = true;
    for (SocketChannel c : inFlight) {
      try {
        c.close();
      } catch (IOException e) {
        // Already broken; the exchange using it fails on its own.
      }
    }
    try {
      Files.deleteIfExists(socket);
    } catch (IOException e) {
      // The run directory is private and removed with the gateway; a leftover file is harmless.
    }
  }
}
