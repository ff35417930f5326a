package dev.locallambdas.cache;

import dev.locallambdas.manifest.CacheSetting;
import dev.locallambdas.manifest.FunctionSpec;
import java.math.BigInteger;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Which functions are cached and how much memory the cache may hold, from the environment and the
 * manifest. {@code ENABLE_CACHE}: unset, empty, {@code false} or {@code 0} is off; {@code true} is
 * on; a number N is on, sized as the original's N entries at 64 KiB each. {@code CACHE_MAX_SIZE} (a
 * size such as {@code 64m}) sets the byte bound and wins over N. A function's {@code <cache>}
 * element overrides ENABLE_CACHE for that function. Validated when built.
 */
public final class CacheSettings {
  public static final String ENABLE_CACHE = "ENABLE_CACHE";
  public static final String CACHE_MAX_SIZE = "CACHE_MAX_SIZE";
  public static final long DEFAULT_MAX_BYTES = 64L << 20;

  /** What one of the original's entries is taken to weigh: 1024 entries make the default. */
  public static final long BYTES_PER_ORIGINAL_ENTRY = 64L << 10;

  private static final Pattern SIZE =
      Pattern.compile("([0-9]+)\\s*(k|kb|kib|m|mb|mib|g|gb|gib)?", Pattern.CASE_INSENSITIVE);

  private final boolean global;
  private final long maxBytes;
  private final Map<String, CacheSetting> functions;

  private CacheSettings(boolean global, long maxBytes, Map<String, CacheSetting> functions) {
    this.global = global;
    this.maxBytes = maxBytes;
    this.functions = functions;
  }

  /** From the process environment, e.g. {@code from(System.getenv(), manifest.functions())}. */
  public static CacheSettings from(Map<String, String> env, List<FunctionSpec> specs) {
    return of(env.get(ENABLE_CACHE), env.get(CACHE_MAX_SIZE), specs);
  }

  /**
   * From the two variables' values (null when unset). Throws IllegalArgumentException, quoting the
   * bad value, for anything else than the forms above.
   */
  public static CacheSettings of(String enableCache, String maxSize, List<FunctionSpec> specs) {
    boolean global;
    long bytes = DEFAULT_MAX_BYTES;
    String e = enableCache == null ? "" : enableCache.strip();
    if (e.isEmpty() || e.equalsIgnoreCase("false") || e.equals("0")) {
      global = false;
    } else if (e.equalsIgnoreCase("true")) {
      global = true;
    } else if (e.chars().allMatch(c -> c >= '0' && c <= '9')) {
      BigInteger n = new BigInteger(e);
      BigInteger b = n.multiply(BigInteger.valueOf(BYTES_PER_ORIGINAL_ENTRY));
      if (b.bitLength() > 62) {
        throw new IllegalArgumentException(
            ENABLE_CACHE
                + "='"
                + enableCache
                + "' is too large: give a number of entries, e.g. 1000");
      }
      global = true;
      bytes = b.longValueExact();
    } else {
      throw new IllegalArgumentException(
          ENABLE_CACHE
              + "='"
              + enableCache
              + "' is not allowed: use true, false, or a number of entries as the original did,"
              + " e.g. 1000");
    }
    if (maxSize != null && !maxSize.isBlank()) {
      bytes = size(maxSize);
    }
    Map<String, CacheSetting> on = new LinkedHashMap<>();
    for (FunctionSpec spec : specs) {
      CacheSetting s = spec.cache();
      boolean enabled =
          switch (s.mode()) {
            case ENABLED -> true;
            case DISABLED -> false;
            case FOLLOW_GLOBAL -> global;
          };
      if (enabled) {
        on.put(spec.id(), s);
      }
    }
    return new CacheSettings(global, bytes, java.util.Collections.unmodifiableMap(on));
  }

  private static long size(String v) {
    Matcher m = SIZE.matcher(v.strip());
    if (!m.matches()) {
      throw new IllegalArgumentException(
          CACHE_MAX_SIZE
              + "='"
              + v
              + "' is not a size: write bytes, optionally with k, m or g (binary), e.g. 64m");
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
    if (bytes.signum() == 0 || bytes.bitLength() > 62) {
      throw new IllegalArgumentException(
          CACHE_MAX_SIZE + "='" + v + "' is not allowed: give a size above zero, e.g. 64m");
    }
    return bytes.longValueExact();
  }

  /** True when ENABLE_CACHE turned caching on for functions without a {@code <cache>} element. */
  public boolean globallyEnabled() {
    return global;
  }

  /** True when at least one function is cached: otherwise the gateway needs no cache at all. */
  public boolean anyEnabled() {
    return !functions.isEmpty();
  }

  public boolean enabled(String functionId) {
    return functions.containsKey(functionId);
  }

  /** The byte bound of the whole cache (Caffeine's maximum weight). */
  public long maxBytes() {
    return maxBytes;
  }

  /** The settings of the cached functions, by id. */
  public Map<String, CacheSetting> functions() {
    return functions;
  }

  /** One line for the log, e.g. "cache on for a, b (64 MiB)". */
  public String describe() {
    if (functions.isEmpty()) {
      return "cache off";
    }
    return "cache on for "
        + String.join(", ", functions.keySet())
        + " ("
        + (maxBytes % (1 << 20) == 0 ? maxBytes / (1 << 20) + " MiB" : maxBytes + " bytes")
        + ")";
  }

  @Override
  public String toString() {
    return "CacheSettings[" + describe().toLowerCase(Locale.ROOT) + "]";
  }
}
