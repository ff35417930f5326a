package dev.locallambdas.transport.http;

import dev.locallambdas.clock.Cancellable;
import dev.locallambdas.clock.Clock;
import dev.locallambdas.clock.Scheduler;
import dev.locallambdas.exchange.Request;
import dev.locallambdas.transport.CallListener;
import dev.locallambdas.transport.Outcome;
import dev.locallambdas.transport.TransportException;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoop;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One event loop's connections to one child, used only on that loop (no lock): calls opened on the
 * loop reuse its idle connections or connect new ones there, so a request and the connection that
 * carries it share a thread (as Zuul 2's per-loop pools, Reactor Netty's caller-loop connections
 * and Envoy's per-worker pools do).
 *
 * <p>Idle connections are reused last in, first out (the most recently used one is the least likely
 * to have been closed by the child's own idle timeout), at most {@code maxIdle} are kept, and one
 * that stayed idle for {@code idleNanos} is closed. One timer per pool, set for the oldest idle
 * connection, does the eviction, so a request costs no timer.
 */
final class LoopPool {
  /** Opens a connection to the child on the pool's loop; tests substitute an in-memory channel. */
  @FunctionalInterface
  interface Connector {
    ChannelFuture connect(ChannelInitializer<Channel> initializer);
  }

  /** What the pools of one endpoint share. */
  record Settings(
      String peer,
      String host,
      int maxIdle,
      long idleNanos,
      Clock clock,
      Scheduler scheduler,
      AtomicInteger connections) {}

  private final EventLoop loop;
  private final Connector connector;
  private final Settings settings;
  private final ArrayDeque<ChildConnection> idle = new ArrayDeque<>();
  private final Set<ChildConnection> connections = new HashSet<>();
  private final Runnable sweep = this::sweepOnLoop;
  private Cancellable sweepTimer;
  private boolean closed;

  LoopPool(EventLoop loop, Connector connector, Settings settings) {
    this.loop = loop;
    this.connector = connector;
    this.settings = settings;
  }

  EventLoop loop() {
    return loop;
  }

  String peer() {
    return settings.peer();
  }

  String host() {
    return settings.host();
  }

  /** Starts a call on this loop (the current thread). */
  Exchange open(Request request, CallListener listener) {
    Exchange x = new Exchange(this, request, listener);
    try {
      if (closed) {
        x.fail(
            new TransportException(
                TransportException.Kind.NOT_DELIVERED,
                "the endpoint of " + settings.peer() + " is closed"),
            Outcome.BROKEN);
        return x;
      }
      ChildConnection c = takeIdle();
      if (c != null) {
        x.start(c, true);
      } else {
        connect(x);
      }
      return x;
    } finally {
      x.opened();
    }
  }

  private ChildConnection takeIdle() {
    for (ChildConnection c = idle.pollFirst(); c != null; c = idle.pollFirst()) {
      if (c.isActive()) {
        return c;
      }
      c.close(); // closed by the child and not yet noticed: no harm done, take the next
    }
    return null;
  }

  private void connect(Exchange x) {
    ChildConnection c = new ChildConnection(this, x);
    connections.add(c);
    settings.connections().incrementAndGet();
    x.connecting(c);
    ChannelFuture f =
        connector.connect(
            new ChannelInitializer<>() {
              @Override
              protected void initChannel(Channel ch) {
                c.install(ch.pipeline());
              }
            });
    c.bind(f.channel());
    f.addListener(c);
  }

  /** A connection whose exchange ended cleanly: keep it for the next call, or close it. */
  void recycle(ChildConnection c) {
    if (closed || idle.size() >= settings.maxIdle() || !c.isActive()) {
      c.close();
      return;
    }
    c.idleSince = settings.clock().nanoTime();
    idle.addFirst(c);
    c.read(); // an idle connection still reads, to see the child close it
    if (sweepTimer == null) {
      sweepTimer = settings.scheduler().schedule(sweep, settings.idleNanos());
    }
  }

  /** The connection's channel closed (whoever closed it). */
  void removed(ChildConnection c) {
    if (connections.remove(c)) {
      settings.connections().decrementAndGet();
    }
    idle.removeFirstOccurrence(c);
  }

  private void sweepOnLoop() {
    if (loop.inEventLoop()) {
      sweep();
    } else {
      loop.execute(this::sweep); // a test's manual scheduler runs timers on its own thread
    }
  }

  private void sweep() {
    sweepTimer = null;
    if (closed) {
      return;
    }
    long now = settings.clock().nanoTime();
    ChildConnection oldest = idle.peekLast();
    while (oldest != null && now - oldest.idleSince >= settings.idleNanos()) {
      idle.pollLast();
      oldest.close();
      oldest = idle.peekLast();
    }
    if (oldest != null) {
      sweepTimer =
          settings.scheduler().schedule(sweep, settings.idleNanos() - (now - oldest.idleSince));
    }
  }

  /** For tests: the idle connection the next call would take, or null. */
  ChildConnection newestIdle() {
    return idle.peekFirst();
  }

  /** For tests: idle connections on this loop. */
  int idleCount() {
    return idle.size();
  }

  /** Fails the calls in flight and closes every connection. Runs on the loop; idempotent. */
  void close() {
    if (closed) {
      return;
    }
    closed = true;
    if (sweepTimer != null) {
      sweepTimer.cancel();
      sweepTimer = null;
    }
    idle.clear();
    for (ChildConnection c : new ArrayList<>(connections)) {
      c.shutdown();
    }
  }
}
