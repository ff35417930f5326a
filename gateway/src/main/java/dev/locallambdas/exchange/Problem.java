package dev.locallambdas.exchange;

import java.util.List;

/**
 * An error the gateway itself answers with, rendered as {@code application/problem+json} (RFC
 * 9457). {@code type} is a short slug ("no-route", "function-crashed") that becomes the problem's
 * type URI; {@code function} names the function involved (null when none); {@code stderr} carries
 * the last lines the child wrote, when they explain the failure; {@code retryAfterSeconds} > 0 adds
 * a Retry-After header.
 */
public final class Problem extends Exception {
  private static final long serialVersionUID = 1L;

  private final int status;
  private final String type;
  private final String title;
  private final String function;
  private final transient List<String> stderr;
  private final long retryAfterSeconds;
  private final transient Headers headers;

  private Problem(Builder b) {
    super(b.detail, null, false, false);
    this.status = b.status;
    this.type = b.type;
    this.title = b.title;
    this.function = b.function;
    this.stderr = List.copyOf(b.stderr);
    this.retryAfterSeconds = b.retryAfterSeconds;
    this.headers = b.headers.build();
  }

  public static Builder of(int status, String type, String title) {
    return new Builder(status, type, title);
  }

  public int status() {
    return status;
  }

  public String type() {
    return type;
  }

  public String title() {
    return title;
  }

  /** The human-readable explanation: what went wrong and how to fix it. */
  public String detail() {
    return getMessage();
  }

  public String function() {
    return function;
  }

  public List<String> stderr() {
    return stderr;
  }

  public long retryAfterSeconds() {
    return retryAfterSeconds;
  }

  /** Fields the answer carries besides the problem's own (e.g. Allow on a 405). */
  public Headers headers() {
    return headers;
  }

  /** Collects a problem's fields. */
  public static final class Builder {
    private final int status;
    private final String type;
    private final String title;
    private String detail = "";
    private String function;
    private List<String> stderr = List.of();
    private long retryAfterSeconds;
    private final Headers.Builder headers = Headers.builder();

    private Builder(int status, String type, String title) {
      if (status < 400 || status > 599) {
        throw new IllegalArgumentException("problem status " + status + " is not an error status");
      }
      this.status = status;
      this.type = type;
      this.title = title;
    }

    public Builder detail(String value) {
      this.detail = value;
      return this;
    }

    public Builder function(String value) {
      this.function = value;
      return this;
    }

    public Builder stderr(List<String> value) {
      this.stderr = value;
      return this;
    }

    public Builder retryAfterSeconds(long value) {
      this.retryAfterSeconds = value;
      return this;
    }

    /** A field the answer carries, e.g. {@code header("allow", "GET")} on a 405. */
    public Builder header(String name, String value) {
      headers.add(name, value);
      return this;
    }

    public Problem build() {
      return new Problem(this);
    }
  }
}
