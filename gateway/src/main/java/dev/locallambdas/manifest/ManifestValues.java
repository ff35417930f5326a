package dev.locallambdas.manifest;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.Duration;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The syntax of manifest values. Each parser takes a trimmed value and throws
 * IllegalArgumentException with a message that quotes it and says how to write it.
 */
final class ManifestValues {
  private static final Pattern DURATION =
      Pattern.compile("([0-9]+(?:\\.[0-9]+)?)\\s*(ms|s|m|h)", Pattern.CASE_INSENSITIVE);
  private static final Pattern BARE_NUMBER = Pattern.compile("[0-9]+(?:\\.[0-9]+)?");
  private static final Pattern SIZE =
      Pattern.compile("([0-9]+)\\s*(k|kb|kib|m|mb|mib|g|gb|gib)?", Pattern.CASE_INSENSITIVE);
  private static final BigDecimal MAX_NANOS = BigDecimal.valueOf(Long.MAX_VALUE);

  private ManifestValues() {}

  /** A whole number such as {@code 4}; range checks are FunctionSpec's. */
  static int integer(String v) {
    try {
      return Integer.parseInt(v);
    } catch (NumberFormatException e) {
      if (v.matches("[+-]?[0-9]+")) {
        throw new IllegalArgumentException(Quote.of(v) + " is too large");
      }
      throw new IllegalArgumentException(Quote.of(v) + " is not a whole number");
    }
  }

  /** A number with a unit: {@code 250ms}, {@code 30s}, {@code 1.5m}, {@code 2h}. */
  static Duration duration(String v) {
    Matcher m = DURATION.matcher(v);
    if (!m.matches()) {
      if (BARE_NUMBER.matcher(v).matches()) {
        throw new IllegalArgumentException(
            Quote.of(v)
                + " has no unit: add one, e.g. "
                + (v.length() <= 20 ? v : "30")
                + "s (units: ms, s, m, h)");
      }
      throw new IllegalArgumentException(
          Quote.of(v) + " is not a duration: write a number with a unit ms, s, m or h, e.g. 30s");
    }
    long nanosPerUnit =
        switch (m.group(2).toLowerCase(Locale.ROOT)) {
          case "ms" -> 1_000_000L;
          case "s" -> 1_000_000_000L;
          case "m" -> 60_000_000_000L;
          default -> 3_600_000_000_000L;
        };
    BigDecimal nanos = new BigDecimal(m.group(1)).multiply(BigDecimal.valueOf(nanosPerUnit));
    if (nanos.compareTo(MAX_NANOS) > 0) {
      throw new IllegalArgumentException(Quote.of(v) + " is too long");
    }
    return Duration.ofNanos(nanos.longValue());
  }

  /** Like {@link #duration} but also {@code never}, which is zero: "do not time out". */
  static Duration durationOrNever(String v) {
    return v.equalsIgnoreCase("never") ? Duration.ZERO : duration(v);
  }

  /** Bytes: {@code 1048576}, {@code 512k}, {@code 64MiB}, {@code 1g}; the suffixes are binary. */
  static long size(String v) {
    Matcher m = SIZE.matcher(v);
    if (!m.matches()) {
      throw new IllegalArgumentException(
          Quote.of(v)
              + " is not a size: write bytes, optionally with k, m or g (binary), e.g. 64m");
    }
    int shift =
        m.group(2) == null
            ? 0
            : switch (Character.toLowerCase(m.group(2).charAt(0))) {
              case 'k' -> 10;
              case 'm' -> 20;
              default -> 30;
            };
    BigInteger bytes = new BigInteger(m.group(1)).shiftLeft(shift);
    if (bytes.bitLength() > 63) {
      throw new IllegalArgumentException(Quote.of(v) + " is too large");
    }
    return bytes.longValueExact();
  }
}
