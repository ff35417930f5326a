package dev.locallambdas.frontdoor;

import dev.locallambdas.cache.Capture;
import dev.locallambdas.exchange.Headers;
import dev.locallambdas.exchange.Problem;
import dev.locallambdas.exchange.Request;
import dev.locallambdas.function.Failures;
import dev.locallambdas.function.FunctionPool;
import dev.locallambdas.function.Lease;
import dev.locallambdas.function.Ticket;
import dev.locallambdas.function.Waiter;
import dev.locallambdas.manifest.FunctionSpec;
import dev.locallambdas.transport.Call;
import dev.locallambdas.transport.CallListener;
import dev.locallambdas.transport.Outcome;
import dev.locallambdas.transport.TransportException;
import io.netty.buffer.ByteBuf;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.ScheduledFuture;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * One request to a function, from the slot to the last byte, on the client connection's event loop:
 * waits for a slot ({@link Waiter}), opens the call, feeds it the request body as it arrives,
 * relays the response to the {@link Responder} ({@link CallListener}), and owns the request timeout
 * and the one retry (a request that never reached the child is tried once more). Whatever happens,
 * the slot is released exactly once and the client gets an answer or a cut connection, never
 * silence.
 */
final class Dispatch implements Waiter, CallListener, ConnectionHandler.Exchange {
  private static final Logger LOG = Logger.getLogger("dev.locallambdas.frontdoor");

  /** How long a failure waits for the instance's exit, so the 502 can say how it died. */
  private static final Duration EXIT_WAIT = Duration.ofSeconds(1);

  /** Request body held while waiting for a slot before the connection stops reading. */
  private static final int QUEUED_BODY_LIMIT = 64 * 1024;

  private enum Phase {
    /** Waiting for a slot. */
    QUEUED,
    /** A call is open. */
    CALLING,
    /** The slot was given back; waiting for the next attempt's slot. */
    RETRYING,
    /** Answered (or aborted); the slot, if any, may still be on its way back. */
    DONE
  }

  private final ConnectionHandler connection;
  private final EventLoop loop;
  private final FunctionPool pool;
  private final FunctionSpec spec;
  private final Request request;
  private final Responder responder;
  private final Capture capture;
  private final AccessLog.Entry log;

  private Phase phase = Phase.QUEUED;
  private Ticket ticket = Ticket.NONE;
  private Lease lease;
  private Call call;
  private ScheduledFuture<?> timer;
  private int attempt = 1;
  private boolean retryDue;
  private boolean clientGone;
  private boolean responseStarted;
  private boolean finished;

  // The request body: held while no call takes it (queued, or between attempts).
  private final ArrayDeque<ByteBuf> held = new ArrayDeque<>(2);
  private long heldBytes;
  private boolean bodyEnded;
  private boolean bodyGiven;
  private long bodyBytes;

  // A copy of the body given to the first call, while it is small: if the call never reached the
  // child, the retry sends it again.
  private final ArrayDeque<ByteBuf> replay = new ArrayDeque<>(2);
  private long replayBytes;
  private boolean replayable = true;

  Dispatch(
      ConnectionHandler connection,
      EventLoop loop,
      FunctionPool pool,
      Request request,
      Responder responder,
      Capture capture,
      AccessLog.Entry log) {
    this.connection = connection;
    this.loop = loop;
    this.pool = pool;
    this.spec = pool.spec();
    this.request = request;
    this.responder = responder;
    this.capture = capture;
    this.log = log;
    this.bodyEnded = !request.hasBody();
    responder.onConsumed(this::consumed);
  }

  void start() {
    ticket = pool.acquire(this);
  }

  // ---------------------------------------------------------------- the slot (any thread)

  @Override
  public EventLoop loop() {
    return loop;
  }

  @Override
  public void granted(Lease lease) {
    onLoop(() -> onGranted(lease));
  }

  @Override
  public void refused(Problem problem) {
    onLoop(() -> answer(problem, false));
  }

  private void onLoop(Runnable task) {
    if (loop.inEventLoop()) {
      task.run();
    } else {
      loop.execute(task);
    }
  }

  private void onGranted(Lease granted) {
    if (clientGone || phase == Phase.DONE) {
      granted.returnUnused();
      finish();
      return;
    }
    lease = granted;
    phase = Phase.CALLING;
    log.granted();
    log.instance(granted.label(), granted.cold());
    long timeout = spec.requestTimeout().toMillis();
    call = granted.endpoint().open(request, timeout, loop, this);
    timer = loop.schedule(this::timedOut, timeout, TimeUnit.MILLISECONDS);
    ByteBuf b;
    while ((b = held.poll()) != null) {
      give(b, bodyEnded && held.isEmpty());
    }
    heldBytes = 0;
    connection.readBody(true);
  }

  /** Hands a piece of the body to the call, keeping a copy for a retry while that is cheap. */
  private void give(ByteBuf content, boolean last) {
    int n = content.readableBytes();
    if (n > 0) {
      bodyGiven = true;
      if (replayable && attempt == 1 && replayBytes + n <= QUEUED_BODY_LIMIT) {
        replay.add(content.retainedDuplicate());
        replayBytes += n;
      } else {
        dropReplay();
      }
    }
    call.body(content, last);
  }

  private void dropReplay() {
    replayable = false;
    ByteBuf b;
    while ((b = replay.poll()) != null) {
      b.release();
    }
    replayBytes = 0;
  }

  // ---------------------------------------------------------------- the request body (on the loop)

  @Override
  public void content(ByteBuf content, boolean last) {
    bodyBytes += content.readableBytes();
    if (bodyBytes > spec.maxBodyBytes()) {
      content.release();
      fail(
          Admission.tooLarge(spec.id(), "the request body is larger than", spec.maxBodyBytes()),
          Call.Cancel.CLIENT_GONE);
      return;
    }
    bodyEnded = last;
    if (phase == Phase.CALLING) {
      give(content, last);
      return;
    }
    if (phase == Phase.DONE) {
      content.release();
      return;
    }
    if (content.isReadable() || last) {
      held.add(content);
      heldBytes += content.readableBytes();
    } else {
      content.release();
    }
    if (heldBytes > QUEUED_BODY_LIMIT) {
      connection.readBody(false); // until a call takes what is held
    }
  }

  @Override
  public void malformed(String why) {
    fail(
        Problem.of(400, "bad-request", "Bad Request")
            .detail("the request body is not valid HTTP/1.1 (" + why + ")")
            .build(),
        Call.Cancel.CLIENT_GONE);
  }

  @Override
  public void bodyWritable(boolean writable) {
    if (phase == Phase.CALLING) {
      connection.readBody(writable);
    }
  }

  /** The client refused the body or sent a bad one: answer, stop the call, close afterwards. */
  private void fail(Problem problem, Call.Cancel cancel) {
    responder.closeAfter();
    if (phase == Phase.CALLING) {
      call.cancel(cancel);
    }
    answer(problem, true);
  }

  // ---------------------------------------------------------------- the response (on the loop)

  @Override
  public void head(int status, Headers headers, long contentLength) {
    if (phase != Phase.CALLING) {
      return;
    }
    if (!responseStarted && lease.cold()) {
      log.firstResponse();
    }
    responseStarted = true;
    dropReplay();
    log.status(status);
    responder.head(
        status,
        capture != null ? capture.head(status, headers, contentLength) : headers,
        contentLength);
  }

  @Override
  public void body(ByteBuf content) {
    if (phase != Phase.CALLING) {
      content.release();
      return;
    }
    if (capture != null) {
      capture.body(content);
    }
    responder.body(content);
  }

  @Override
  public void end() {
    if (phase != Phase.CALLING) {
      return;
    }
    phase = Phase.DONE;
    if (capture != null) {
      capture.end();
    }
    responder.end();
  }

  private void consumed(int bytes) {
    if (call != null) {
      call.consumed(bytes);
    }
  }

  @Override
  public void failed(TransportException e) {
    if (phase != Phase.CALLING) {
      return;
    }
    if (e.kind() == TransportException.Kind.NOT_DELIVERED
        && attempt == 1
        && (!bodyGiven || replayable)
        && !responseStarted
        && !clientGone) {
      // Never reached the child: one more try, on whichever instance is free (ADR 0005), with
      // the body it was given so far.
      LOG.fine(() -> lease.label() + ": request not delivered (" + e.getMessage() + "), retrying");
      retryDue = true;
      phase = Phase.RETRYING;
      held.addAll(replay);
      heldBytes = replayBytes;
      replay.clear();
      replayBytes = 0;
      return; // released() follows and asks for the next slot
    }
    if (responder.committed()) {
      if (e.kind() != TransportException.Kind.RESET) {
        LOG.warning(spec.id() + ": response aborted after it started: " + e.getMessage());
      }
      phase = Phase.DONE;
      responder.abort();
      return;
    }
    Lease failedOn = lease;
    phase = Phase.DONE;
    log.status(502);
    // Only a broken instance may be about to die; a failure the instance reported itself is
    // answered at once.
    failedOn
        .exitWithin(e.kind().breaksInstance() ? EXIT_WAIT : Duration.ZERO)
        .thenAccept(
            exit ->
                onLoop(
                    () ->
                        write(
                            Failures.callFailed(
                                spec, failedOn.label(), e, exit, failedOn.recentStderr()),
                            false)));
  }

  @Override
  public void released(Outcome outcome) {
    cancelTimer();
    Lease l = lease;
    lease = null;
    call = null;
    if (l != null) {
      l.release(outcome);
    }
    if (retryDue) {
      retryDue = false;
      attempt++;
      phase = Phase.QUEUED;
      if (clientGone) {
        finish();
        return;
      }
      ticket = pool.acquire(this);
      return;
    }
    finish();
  }

  // ---------------------------------------------------------------- giving up

  private void timedOut() {
    timer = null;
    if (call == null) {
      return;
    }
    LOG.warning(
        lease.label()
            + ": request "
            + request.method()
            + " "
            + request.path()
            + " timed out after "
            + spec.requestTimeout().toMillis()
            + " ms; replacing the instance");
    Call c = call;
    log.timedOut();
    if (phase == Phase.CALLING) {
      phase = Phase.DONE;
      if (responder.committed()) {
        responder.abort();
      } else {
        log.status(504);
        write(Failures.timeout(spec), false);
      }
    }
    c.cancel(Call.Cancel.TIMEOUT);
  }

  @Override
  public void clientGone() {
    if (clientGone) {
      return;
    }
    clientGone = true;
    releaseHeld();
    switch (phase) {
      case QUEUED -> {
        ticket.cancel();
        phase = Phase.DONE;
        finish(); // a grant already on its way is returned unused
      }
      case CALLING -> {
        phase = Phase.DONE;
        call.cancel(Call.Cancel.CLIENT_GONE);
      }
      case RETRYING, DONE -> {
        if (call != null) {
          call.cancel(Call.Cancel.CLIENT_GONE); // still waiting for the instance to let go
        }
      }
    }
  }

  private void cancelTimer() {
    if (timer != null) {
      timer.cancel(false);
      timer = null;
    }
  }

  /** Answers with a problem instead of the function's response (or cuts a started one). */
  private void answer(Problem problem, boolean close) {
    if (phase == Phase.DONE && responder.finished()) {
      return;
    }
    log.status(problem.status());
    log.rejected(problem);
    if (phase == Phase.QUEUED) {
      ticket.cancel();
      finish();
    }
    phase = Phase.DONE;
    write(problem, close);
  }

  private void write(Problem problem, boolean close) {
    releaseHeld();
    if (clientGone || responder.finished()) {
      return;
    }
    if (responder.committed()) {
      responder.abort();
    } else {
      responder.problem(problem, request.path(), close);
    }
  }

  private void releaseHeld() {
    ByteBuf b;
    while ((b = held.poll()) != null) {
      b.release();
    }
    heldBytes = 0;
    dropReplay();
  }

  /** The request is over as far as the cache and the log are concerned. */
  private void finish() {
    releaseHeld();
    if (finished) {
      return;
    }
    finished = true;
    if (capture != null) {
      capture.done();
    }
    try {
      log.bytesIn(bodyBytes);
      log.done(responder.bytes());
    } catch (RuntimeException e) {
      LOG.log(Level.WARNING, "access log failed", e);
    }
  }
}
