package dev.locallambdas.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The JSON the suite reads and writes: {@code Map<String,Object>} (insertion ordered), {@code
 * List<Object>}, String, Number, Boolean and null. Small enough not to need a library.
 */
final class Json {
  private Json() {}

  static String write(Object value) {
    StringBuilder out = new StringBuilder(4096);
    write(out, value, 0);
    out.append('\n');
    return out.toString();
  }

  private static void write(StringBuilder out, Object v, int indent) {
    switch (v) {
      case null -> out.append("null");
      case String s -> quote(out, s);
      case Double d -> out.append(d.isNaN() || d.isInfinite() ? "null" : format(d));
      case Float f -> write(out, f.doubleValue(), indent);
      case Number n -> out.append(n);
      case Boolean b -> out.append(b);
      case Map<?, ?> m -> writeMap(out, m, indent);
      case List<?> l -> writeList(out, l, indent);
      default -> throw new IllegalArgumentException("not a JSON value: " + v.getClass().getName());
    }
  }

  private static void writeMap(StringBuilder out, Map<?, ?> m, int indent) {
    if (m.isEmpty()) {
      out.append("{}");
      return;
    }
    out.append("{\n");
    int i = 0;
    for (Map.Entry<?, ?> e : m.entrySet()) {
      pad(out, indent + 2);
      quote(out, String.valueOf(e.getKey()));
      out.append(": ");
      write(out, e.getValue(), indent + 2);
      out.append(++i < m.size() ? ",\n" : "\n");
    }
    pad(out, indent);
    out.append('}');
  }

  private static void writeList(StringBuilder out, List<?> l, int indent) {
    boolean flat =
        l.stream().allMatch(x -> x == null || x instanceof Number || x instanceof String);
    if (flat) {
      out.append('[');
      for (int i = 0; i < l.size(); i++) {
        if (i > 0) {
          out.append(", ");
        }
        write(out, l.get(i), indent);
      }
      out.append(']');
      return;
    }
    out.append("[\n");
    for (int i = 0; i < l.size(); i++) {
      pad(out, indent + 2);
      write(out, l.get(i), indent + 2);
      out.append(i + 1 < l.size() ? ",\n" : "\n");
    }
    pad(out, indent);
    out.append(']');
  }

  private static String format(double d) {
    if (d == Math.rint(d) && Math.abs(d) < 1e15) {
      return Long.toString((long) d);
    }
    return Double.toString(Math.round(d * 1000.0) / 1000.0);
  }

  private static void pad(StringBuilder out, int n) {
    out.append(" ".repeat(n));
  }

  private static void quote(StringBuilder out, String s) {
    dev.locallambdas.json.Json.appendString(out, s);
  }

  /**
   * Parses with the gateway's parser (numbers are Long or Double); a JSON null becomes Java null,
   * as the suite's readers expect.
   */
  static Object parse(String text) {
    try {
      return javaNulls(dev.locallambdas.json.Json.parse(text));
    } catch (dev.locallambdas.json.Json.SyntaxException e) {
      throw new IllegalArgumentException("not JSON: " + e.getMessage(), e);
    }
  }

  private static Object javaNulls(Object v) {
    if (dev.locallambdas.json.Json.absent(v)) {
      return null;
    }
    if (v instanceof Map<?, ?> m) {
      Map<String, Object> out = new LinkedHashMap<>();
      m.forEach((k, x) -> out.put((String) k, javaNulls(x)));
      return out;
    }
    if (v instanceof List<?> l) {
      List<Object> out = new ArrayList<>(l.size());
      l.forEach(x -> out.add(javaNulls(x)));
      return out;
    }
    return v;
  }
}
