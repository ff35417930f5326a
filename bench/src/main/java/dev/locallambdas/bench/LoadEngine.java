package dev.locallambdas.bench;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;

/**
 * Drives load with one keep-alive connection per worker. Workers are platform threads so their CPU
 * time can be read (ThreadMXBean) and subtracted from the process's: client and gateway share this
 * JVM.
 *
 * <p>Closed loop: each worker sends its next request when the previous answer arrived (hey, wrk).
 * Open loop: requests are scheduled at a fixed rate and latency is measured from each request's
 * intended send time, not from when a worker got round to sending it, so a stall is charged to
 * every request it delayed (coordinated-omission correction, as wrk2 does).
 */
final class LoadEngine {
  private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

  /** What to send. {@code bodyBytes > 0}: POST that many bytes and expect them echoed. */
  record Request(String method, String target, int bodyBytes) {
    static Request get(String target) {
      return new Request("GET", target, 0);
    }
  }

  /** A finished run: the merged recorder, the uncorrected one (open loop) and the client's CPU. */
  record Run(Recorder recorder, Recorder uncorrected, double seconds, long clientCpuNanos) {}

  private final InetSocketAddress address;
  private final Progress progress;

  LoadEngine(InetSocketAddress address, Progress progress) {
    this.address = address;
    this.progress = progress;
  }

  /** Sequential requests on one connection, on the calling thread (the five cases). */
  Run sequential(Request req, int count, java.util.function.LongConsumer perRequestNanos) {
    long cpu0 = THREADS.getCurrentThreadCpuTime();
    Recorder rec = new Recorder();
    Payload payload = new Payload(req, 1);
    long start = System.nanoTime();
    try (HttpConnection c = new HttpConnection(address)) {
      for (int i = 0; i < count; i++) {
        long t0 = System.nanoTime();
        send(c, payload, rec, t0, null, t0);
        if (perRequestNanos != null) {
          perRequestNanos.accept(t0);
        }
        progress.fraction((i + 1) / (double) count);
      }
    }
    double secs = (System.nanoTime() - start) / 1e9;
    return new Run(rec, null, secs, THREADS.getCurrentThreadCpuTime() - cpu0);
  }

  /** Closed loop: {@code concurrency} workers, each back to back, for {@code duration}. */
  Run closed(Request req, int concurrency, Duration duration) {
    long start = System.nanoTime();
    long end = start + duration.toNanos();
    List<Recorder> recs = new ArrayList<>();
    LongAdder cpu = new LongAdder();
    List<Thread> threads = new ArrayList<>();
    for (int w = 0; w < concurrency; w++) {
      Recorder rec = new Recorder();
      recs.add(rec);
      Payload payload = new Payload(req, w + 1);
      threads.add(
          worker(
              "closed-" + w,
              cpu,
              () -> {
                try (HttpConnection c = new HttpConnection(address)) {
                  long now;
                  while ((now = System.nanoTime()) < end) {
                    send(c, payload, rec, now, null, now);
                  }
                }
              }));
    }
    return finish(threads, recs, null, start, end, cpu);
  }

  /**
   * Open loop at {@code rate} requests per second over {@code connections} connections. Each
   * request i is due at start + i/rate; a worker takes the next due request, waits for its time and
   * sends it; its latency counts from the due time.
   */
  Run open(Request req, int connections, double rate, Duration duration) {
    long start = System.nanoTime() + 50_000_000L; // let every worker connect first
    long end = start + duration.toNanos();
    double interval = 1e9 / rate;
    AtomicLong next = new AtomicLong();
    List<Recorder> recs = new ArrayList<>();
    List<Recorder> raw = new ArrayList<>();
    LongAdder cpu = new LongAdder();
    List<Thread> threads = new ArrayList<>();
    for (int w = 0; w < connections; w++) {
      Recorder rec = new Recorder();
      Recorder unc = new Recorder();
      recs.add(rec);
      raw.add(unc);
      Payload payload = new Payload(req, w + 1);
      threads.add(
          worker(
              "open-" + w,
              cpu,
              () -> {
                try (HttpConnection c = new HttpConnection(address)) {
                  while (true) {
                    long due = start + (long) (next.getAndIncrement() * interval);
                    if (due >= end) {
                      return;
                    }
                    long wait;
                    while ((wait = due - System.nanoTime()) > 0) {
                      LockSupport.parkNanos(wait);
                    }
                    send(c, payload, rec, due, unc, System.nanoTime());
                  }
                }
              }));
    }
    return finish(threads, recs, raw, start, end, cpu);
  }

  private Run finish(
      List<Thread> threads,
      List<Recorder> recs,
      List<Recorder> raw,
      long start,
      long end,
      LongAdder cpu) {
    for (Thread t : threads) {
      while (t.isAlive()) {
        try {
          t.join(200);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException("interrupted while waiting for load workers", e);
        }
        progress.fraction((System.nanoTime() - start) / (double) (end - start));
      }
    }
    double secs = (System.nanoTime() - start) / 1e9;
    Recorder all = new Recorder();
    recs.forEach(all::add);
    Recorder unc = null;
    if (raw != null) {
      unc = new Recorder();
      raw.forEach(unc::add);
    }
    return new Run(all, unc, secs, cpu.sum() + HttpConnection.WRITER_CPU.sumThenReset());
  }

  private static Thread worker(String name, LongAdder cpu, Runnable body) {
    Thread t =
        new Thread(
            () -> {
              try {
                body.run();
              } finally {
                cpu.add(THREADS.getCurrentThreadCpuTime());
              }
            },
            "bench-" + name);
    t.setDaemon(true);
    t.setUncaughtExceptionHandler(
        (th, e) -> System.err.println("bench worker " + th.getName() + " died: " + e));
    t.start();
    return t;
  }

  private static void send(
      HttpConnection c, Payload p, Recorder rec, long from, Recorder uncorrected, long sentAt) {
    byte[] body = p.next();
    try {
      HttpConnection.Response r = c.exchange(p.head, body, body);
      long done = System.nanoTime();
      rec.ok(done - from, r);
      if (uncorrected != null) {
        uncorrected.ok(done - sentAt, r);
      }
      if (body != null && !r.bodyMatches()) {
        rec.mismatch();
      }
    } catch (java.io.IOException | RuntimeException e) {
      rec.error(e);
      if (uncorrected != null) {
        uncorrected.error(e);
      }
    }
  }

  /** A worker's request: the prepared head and, for POST, a body that changes every request. */
  private final class Payload {
    final byte[] head;
    final byte[] body;
    long sequence;
    final long worker;

    Payload(Request req, long worker) {
      this.worker = worker;
      this.head =
          HttpConnection.requestHead(
              req.method(), req.target(), address, req.bodyBytes() > 0 ? req.bodyBytes() : -1);
      if (req.bodyBytes() > 0) {
        body = new byte[req.bodyBytes()];
        new SplittableRandom(worker).nextBytes(body);
      } else {
        body = null;
      }
    }

    /** Stamps worker and sequence into the body so a response for another request cannot match. */
    byte[] next() {
      if (body == null) {
        return null;
      }
      sequence++;
      if (body.length >= 16) {
        ByteBuffer.wrap(body).putLong(0, worker).putLong(8, sequence);
      }
      return body;
    }
  }
}
