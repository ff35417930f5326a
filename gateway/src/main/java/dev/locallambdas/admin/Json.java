package dev.locallambdas.admin;

import java.util.Locale;

/** A small streaming JSON writer for the admin answers: compact, commas placed automatically. */
final class Json {
  private final StringBuilder sb = new StringBuilder(1024);
  private boolean comma;

  Json open() {
    return raw('{');
  }

  Json open(String name) {
    return key(name).raw('{');
  }

  Json close() {
    sb.append('}');
    comma = true;
    return this;
  }

  Json array(String name) {
    return key(name).raw('[');
  }

  Json array() {
    return raw('[');
  }

  Json closeArray() {
    sb.append(']');
    comma = true;
    return this;
  }

  Json field(String name, String value) {
    return key(name).value(value);
  }

  Json field(String name, long value) {
    return key(name).value(value);
  }

  Json field(String name, double value) {
    return key(name).value(value);
  }

  Json field(String name, boolean value) {
    key(name);
    sb.append(value);
    comma = true;
    return this;
  }

  Json value(String value) {
    separate();
    if (value == null) {
      sb.append("null");
    } else {
      quote(sb, value);
    }
    comma = true;
    return this;
  }

  Json value(long value) {
    separate();
    sb.append(value);
    comma = true;
    return this;
  }

  Json value(double value) {
    separate();
    if (Double.isNaN(value) || Double.isInfinite(value)) {
      sb.append("null"); // JSON has no infinity: the +Inf bucket's bound is null
    } else {
      sb.append(String.format(Locale.ROOT, "%.6g", value).replaceFirst("\\.?0+(e|$)", "$1"));
    }
    comma = true;
    return this;
  }

  private Json key(String name) {
    separate();
    quote(sb, name);
    sb.append(':');
    comma = false;
    return this;
  }

  private Json raw(char c) {
    separate();
    sb.append(c);
    comma = false;
    return this;
  }

  private void separate() {
    if (comma) {
      sb.append(',');
      comma = false;
    }
  }

  @Override
  public String toString() {
    return sb.toString();
  }

  static void quote(StringBuilder sb, String s) {
    sb.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '"' || c == '\\') {
        sb.append('\\').append(c);
      } else if (c < 0x20 || c == 0x2028 || c == 0x2029) {
        sb.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
      } else {
        sb.append(c);
      }
    }
    sb.append('"');
  }
}
