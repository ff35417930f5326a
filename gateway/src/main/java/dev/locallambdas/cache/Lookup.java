package dev.locallambdas.cache;

import dev.locallambdas.exchange.Headers;
import dev.locallambdas.exchange.ResponseSink;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

/**
 * What {@link FunctionCache#lookup} decided for one request: answer it from memory ({@link Hit}),
 * send it to the function ({@link Forward}), or wait for the response another request is fetching
 * for the same URL ({@link Wait}).
 */
public sealed interface Lookup permits Lookup.Hit, Lookup.Forward, Lookup.Wait {

  /**
   * A stored response answers the request. Write it as is: {@link #status}, {@link #headers},
   * {@code Age: }{@link #age}, {@code X-Cache: HIT}, and, unless the status is 204 or 304, {@code
   * Content-Length: body().length} and (for GET, not HEAD) the body. Nothing here blocks.
   */
  final class Hit implements Lookup {
    private final StoredResponse stored;
    private final boolean notModified;
    private final String age;

    Hit(StoredResponse stored, boolean notModified, String age) {
      this.stored = stored;
      this.notModified = notModified;
      this.age = age;
    }

    /** The stored status, or 304 when the request's If-None-Match / If-Modified-Since hit. */
    public int status() {
      return notModified ? 304 : stored.status;
    }

    public boolean notModified() {
      return notModified;
    }

    /** The stored fields (for a 304 only those RFC 9110 requires); no Age, X-Cache or framing. */
    public Headers headers() {
      return notModified ? stored.notModifiedHeaders : stored.headers;
    }

    /** The body, empty for a 304. Shared by every hit: wrap it, never modify it. */
    public byte[] body() {
      return notModified ? EMPTY : stored.body;
    }

    /** The value of the Age field: seconds since the function produced the response. */
    public String age() {
      return age;
    }

    /**
     * A form of this response prepared once and kept with the stored entry (e.g. the front door's
     * pre-encoded fields), separately for the full response and its 304. {@code encode} must not
     * depend on anything but this hit's status, headers and body; it may run more than once when
     * hits race.
     */
    @SuppressWarnings("unchecked")
    public <T> T wireForm(Function<Hit, T> encode) {
      Object form = stored.wireForm(notModified);
      if (form == null) {
        form = encode.apply(this);
        stored.wireForm(notModified, form);
      }
      return (T) form;
    }

    private static final byte[] EMPTY = new byte[0];
  }

  /**
   * The request goes to the function. Pass the response through {@link #sink} (it adds {@code
   * X-Cache} and, for a cache miss, captures and stores a cacheable response), and call {@link
   * #done} when the request is finished, whatever happened: a miss that was not stored then lets
   * the requests waiting for it go to the function themselves.
   */
  final class Forward implements Lookup {
    private final FunctionCache cache;
    private final Key key;
    private final RequestFields fields;
    private final boolean miss;
    private final boolean store;
    private final boolean authorized;
    private final boolean invalidates;
    private final Flight flight;
    private final long generation;

    Forward(
        FunctionCache cache,
        Key key,
        RequestFields fields,
        boolean miss,
        boolean store,
        boolean authorized,
        boolean invalidates,
        Flight flight,
        long generation) {
      this.cache = cache;
      this.key = key;
      this.fields = fields;
      this.miss = miss;
      this.store = store;
      this.authorized = authorized;
      this.invalidates = invalidates;
      this.flight = flight;
      this.generation = generation;
    }

    /** "MISS" or "BYPASS": the X-Cache value the response gets. */
    public String xCache() {
      return miss ? "MISS" : "BYPASS";
    }

    /** True when this request fetches the response other requests wait for. */
    public boolean leader() {
      return flight != null;
    }

    /** The sink to give a blocking transport: forwards everything to {@code client}. */
    public ResponseSink sink(ResponseSink client) {
      return new CapturingSink(this, client);
    }

    /** What the cache does with the response of this request, piece by piece. */
    public Capture capture() {
      return new Capture(this);
    }

    /** Ends this request's part in the cache; idempotent. */
    public void done() {
      if (flight != null) {
        cache.land(key, flight, null);
      }
    }

    boolean capturing() {
      return store;
    }

    boolean invalidates() {
      return invalidates;
    }

    long maxEntryBytes() {
      return cache.maxEntryBytes();
    }

    /** Called once by the sink when the function's response ended normally. */
    void completed(int status, Headers headers, byte[] body) {
      StoredResponse stored =
          cache.store(key, fields, authorized, generation, status, headers, body);
      if (flight != null) {
        cache.land(key, flight, stored);
      }
    }

    void invalidateTarget() {
      cache.invalidate(key);
    }
  }

  /**
   * Another request is fetching the same URL. {@link #outcome} completes, on the thread that
   * finished that request, with a {@link Hit} or a {@link Forward} for this request; hand it to the
   * connection's own thread (e.g. {@code thenAcceptAsync(..., eventLoop)}). It never completes
   * exceptionally.
   */
  final class Wait implements Lookup {
    private final CompletableFuture<Lookup> outcome;

    Wait(CompletableFuture<Lookup> outcome) {
      this.outcome = outcome;
    }

    public CompletableFuture<Lookup> outcome() {
      return outcome;
    }
  }
}
