package dev.locallambdas.cache;

import static org.assertj.core.api.Assertions.assertThat;

import dev.locallambdas.exchange.Headers;
import dev.locallambdas.exchange.ResponseSink;
import dev.locallambdas.manifest.CacheSetting;
import dev.locallambdas.manifest.FunctionSpec;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/** A cache with a fake clock and same-thread maintenance, and a function that answers by hand. */
final class CacheFixture {
  static final String FN = "fn";
  static final Instant WALL = Instant.parse("2025-01-01T00:00:00Z");

  final AtomicLong nanos = new AtomicLong(1_000_000_000L);
  final ResponseCache cache;
  final FunctionCache fn;

  CacheFixture() {
    this(new CacheSetting(CacheSetting.Mode.ENABLED, CacheSetting.DEFAULT_TTL, 1 << 20), null);
  }

  CacheFixture(CacheSetting setting, String maxSize) {
    FunctionSpec spec =
        FunctionSpec.builder(FN).executable("cat").route("/fn/*").cache(setting).build();
    cache =
        ResponseCache.builder(CacheSettings.of(null, maxSize, List.of(spec)))
            .ticker(nanos::get)
            .clock(Clock.fixed(WALL, ZoneOffset.UTC))
            .executor(Runnable::run)
            .build();
    fn = cache.function(FN);
    assertThat(fn).isNotNull();
  }

  void advance(Duration d) {
    nanos.addAndGet(d.toNanos());
  }

  static RequestFields fields(String... namesAndValues) {
    Headers.Builder b = Headers.builder();
    for (int i = 0; i < namesAndValues.length; i += 2) {
      b.add(namesAndValues[i], namesAndValues[i + 1]);
    }
    return RequestFields.of(b.build());
  }

  static Headers headers(String... namesAndValues) {
    Headers.Builder b = Headers.builder();
    for (int i = 0; i < namesAndValues.length; i += 2) {
      b.add(namesAndValues[i], namesAndValues[i + 1]);
    }
    return b.build();
  }

  Lookup get(String path, String... fields) {
    return fn.lookup("GET", path, null, fields(fields));
  }

  /**
   * Looks up a GET that must miss, answers it as the function would, returns what the client got.
   */
  RecordingSink fetch(String path, int status, Headers response, String body, String... fields) {
    Lookup l = get(path, fields);
    assertThat(l).as("lookup of %s", path).isInstanceOf(Lookup.Forward.class);
    return respond((Lookup.Forward) l, status, response, body);
  }

  static RecordingSink respond(Lookup.Forward f, int status, Headers response, String body) {
    RecordingSink client = new RecordingSink();
    try {
      ResponseSink s = f.sink(client);
      byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
      s.head(status, response, bytes.length);
      s.body(ByteBuffer.wrap(bytes));
      s.end();
    } catch (IOException e) {
      throw new AssertionError(e);
    } finally {
      f.done();
    }
    return client;
  }

  static String body(Lookup.Hit hit) {
    return new String(hit.body(), StandardCharsets.UTF_8);
  }

  /** A client connection as the front door's sink: records what it was given. */
  static final class RecordingSink implements ResponseSink {
    int status;
    Headers headers;
    final ByteArrayOutputStream body = new ByteArrayOutputStream();
    boolean ended;
    boolean failOnBody;
    boolean failOnEnd;

    @Override
    public void head(int status, Headers headers, long contentLength) {
      this.status = status;
      this.headers = headers;
    }

    @Override
    public void body(ByteBuffer chunk) throws IOException {
      if (failOnBody) {
        throw new IOException("client gone");
      }
      byte[] b = new byte[chunk.remaining()];
      chunk.get(b);
      body.write(b);
    }

    @Override
    public void end() throws IOException {
      if (failOnEnd) {
        throw new IOException("client gone");
      }
      ended = true;
    }

    @Override
    public boolean committed() {
      return headers != null;
    }

    String text() {
      return body.toString(StandardCharsets.UTF_8);
    }
  }
}
