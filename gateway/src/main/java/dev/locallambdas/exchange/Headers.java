package dev.locallambdas.exchange;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;

/**
 * An ordered, immutable list of HTTP fields. Names are stored in lower case (HTTP field names are
 * case-insensitive and the pipe protocol sends them lower case); repeated names stay separate.
 */
public final class Headers {
  private static final Headers EMPTY = new Headers(List.of());

  private final List<String> namesAndValues; // name0, value0, name1, value1, ...

  private Headers(List<String> namesAndValues) {
    this.namesAndValues = namesAndValues;
  }

  public static Headers empty() {
    return EMPTY;
  }

  public static Builder builder() {
    return new Builder();
  }

  public int size() {
    return namesAndValues.size() / 2;
  }

  public String name(int i) {
    return namesAndValues.get(2 * i);
  }

  public String value(int i) {
    return namesAndValues.get(2 * i + 1);
  }

  /** The first value of this field, or null. */
  public String get(String name) {
    String n = name.toLowerCase(Locale.ROOT);
    for (int i = 0; i < namesAndValues.size(); i += 2) {
      if (namesAndValues.get(i).equals(n)) {
        return namesAndValues.get(i + 1);
      }
    }
    return null;
  }

  /** Every value of this field, in order. */
  public List<String> all(String name) {
    String n = name.toLowerCase(Locale.ROOT);
    List<String> out = new ArrayList<>(1);
    for (int i = 0; i < namesAndValues.size(); i += 2) {
      if (namesAndValues.get(i).equals(n)) {
        out.add(namesAndValues.get(i + 1));
      }
    }
    return out;
  }

  public Builder toBuilder() {
    Builder b = new Builder();
    b.namesAndValues.addAll(namesAndValues);
    return b;
  }

  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder("Headers[");
    for (int i = 0; i < size(); i++) {
      if (i > 0) {
        sb.append(", ");
      }
      sb.append(name(i)).append(": ").append(value(i));
    }
    return sb.append(']').toString();
  }

  /** Collects fields; does not validate (the front door and transports validate at their edges). */
  public static final class Builder {
    private final List<String> namesAndValues = new ArrayList<>();

    public Builder add(String name, String value) {
      namesAndValues.add(name.toLowerCase(Locale.ROOT));
      namesAndValues.add(value);
      return this;
    }

    /** Removes every field with this name. */
    public Builder remove(String name) {
      String n = name.toLowerCase(Locale.ROOT);
      for (int i = namesAndValues.size() - 2; i >= 0; i -= 2) {
        if (namesAndValues.get(i).equals(n)) {
          namesAndValues.remove(i + 1);
          namesAndValues.remove(i);
        }
      }
      return this;
    }

    public Builder set(String name, String value) {
      return remove(name).add(name, value);
    }

    public Headers build() {
      return namesAndValues.isEmpty()
          ? EMPTY
          : new Headers(Collections.unmodifiableList(new ArrayList<>(namesAndValues)));
    }
  }
}
