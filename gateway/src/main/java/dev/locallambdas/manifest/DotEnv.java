package dev.locallambdas.manifest;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The dotenv format as users know it from docker compose, python-dotenv and Node's --env-file:
 * {@code KEY=VALUE} lines, an optional {@code export } prefix, {@code #} comments, single quotes
 * (literal), double quotes (with {@code \n \r \t \" \\ \$} escapes), both of which may span lines,
 * and unquoted values that end at {@code " #"}. Values are literal: {@code ${VAR}} is not expanded
 * (a warning says so), because expansion differs between the tools users come from and silently
 * rewrites a {@code $} in a password (ADR 0016).
 *
 * <p>Problems name the line and what is wrong, never the value: these files hold secrets.
 */
final class DotEnv {
  /** One finding: an error makes the file unusable; a warning does not. */
  record Issue(int line, boolean error, String message) {}

  /** The variables in file order (a repeated name keeps its last value) and what was found. */
  record Parsed(Map<String, String> values, List<Issue> issues) {
    boolean valid() {
      return issues.stream().noneMatch(Issue::error);
    }
  }

  private final String text;
  private final Map<String, String> values = new LinkedHashMap<>();
  private final Map<String, Integer> lineOf = new LinkedHashMap<>();
  private final List<Issue> issues = new ArrayList<>();
  private int pos;
  private int line = 1;

  private DotEnv(String text) {
    this.text = text.startsWith("\uFEFF") ? text.substring(1) : text;
  }

  static Parsed parse(String text) {
    DotEnv p = new DotEnv(text);
    p.run();
    return new Parsed(java.util.Collections.unmodifiableMap(p.values), List.copyOf(p.issues));
  }

  private void run() {
    while (pos < text.length()) {
      int start = line;
      skipBlanks();
      if (atLineEnd()) {
        nextLine();
        continue;
      }
      if (peek() == '#') {
        skipToLineEnd();
        nextLine();
        continue;
      }
      entry(start);
    }
  }

  private void entry(int start) {
    String key = word();
    if (key.equals("export") && pos < text.length() && (peek() == ' ' || peek() == '\t')) {
      skipBlanks();
      key = word();
    }
    skipBlanks();
    if (key.isEmpty() || pos >= text.length() || peek() != '=') {
      issues.add(
          new Issue(
              start,
              true,
              key.isEmpty()
                  ? "expected KEY=VALUE (a name of letters, digits and _, not starting with a"
                      + " digit)"
                  : "expected '=' after " + key + ": write " + key + "=VALUE"));
      skipToLineEnd();
      nextLine();
      return;
    }
    if (!validName(key)) {
      issues.add(
          new Issue(
              start,
              true,
              "'"
                  + key
                  + "' is not a variable name: use letters, digits and _, not starting with a"
                  + " digit"));
      skipToLineEnd();
      nextLine();
      return;
    }
    pos++; // '='
    skipBlanks();
    String value;
    boolean literal = false;
    if (pos < text.length() && (peek() == '"' || peek() == '\'')) {
      char quote = peek();
      literal = quote == '\'';
      value = quoted(quote, key, start);
      if (value == null) {
        return; // unterminated: the rest of the file was consumed and reported
      }
      skipBlanks();
      if (!atLineEnd() && peek() != '#') {
        issues.add(
            new Issue(
                line,
                true,
                key
                    + ": unexpected text after the closing quote: put the whole value inside the"
                    + " quotes, or start a comment with #"));
        skipToLineEnd();
        nextLine();
        return;
      }
      skipToLineEnd();
    } else {
      value = unquoted();
    }
    if (value.indexOf('\0') >= 0) {
      issues.add(new Issue(start, true, key + ": the value contains a NUL character"));
    } else {
      if (value.contains("${") && !literal) {
        issues.add(
            new Issue(
                start,
                false,
                key
                    + ": ${...} is not expanded, the value is used as written (values are"
                    + " literal; see docs/environment.md)"));
      }
      Integer before = lineOf.put(key, start);
      if (before != null) {
        issues.add(
            new Issue(
                start, false, key + " is set twice (first at line " + before + "): the last wins"));
      }
      values.remove(key); // keeps file order for the last definition
      values.put(key, value);
    }
    nextLine();
  }

  private String quoted(char quote, String key, int start) {
    pos++;
    StringBuilder sb = new StringBuilder();
    while (pos < text.length()) {
      char c = text.charAt(pos++);
      if (c == quote) {
        return sb.toString();
      }
      if (c == '\n') {
        line++;
      }
      if (c == '\r' && pos < text.length() && text.charAt(pos) == '\n') {
        continue; // CRLF inside a multi-line value is one line end
      }
      if (c == '\\' && quote == '"' && pos < text.length()) {
        char e = text.charAt(pos++);
        switch (e) {
          case 'n' -> sb.append('\n');
          case 'r' -> sb.append('\r');
          case 't' -> sb.append('\t');
          case '"', '\\', '$' -> sb.append(e);
          case '\n' -> {
            line++;
            sb.append('\\').append('\n');
          }
          default -> sb.append('\\').append(e); // kept as written, as the shells do
        }
        continue;
      }
      sb.append(c);
    }
    issues.add(
        new Issue(
            start,
            true,
            key
                + ": the "
                + (quote == '"' ? "double" : "single")
                + "-quoted value opened here is never closed: add the closing "
                + quote));
    return null;
  }

  private String unquoted() {
    int begin = pos;
    int end = pos;
    while (pos < text.length() && !atLineEnd()) {
      char c = peek();
      if (c == '#' && (text.charAt(pos - 1) == ' ' || text.charAt(pos - 1) == '\t')) {
        skipToLineEnd();
        break;
      }
      pos++;
      if (c != ' ' && c != '\t') {
        end = pos;
      }
    }
    return text.substring(begin, end);
  }

  private String word() {
    int begin = pos;
    while (pos < text.length()) {
      char c = peek();
      if (c == '=' || c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '#') {
        break;
      }
      pos++;
    }
    return text.substring(begin, pos);
  }

  static boolean validName(String name) {
    if (name.isEmpty() || Character.isDigit(name.charAt(0))) {
      return false;
    }
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      if (!(c == '_' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9')) {
        return false;
      }
    }
    return true;
  }

  private char peek() {
    return text.charAt(pos);
  }

  private boolean atLineEnd() {
    return pos >= text.length() || peek() == '\n' || peek() == '\r';
  }

  private void skipBlanks() {
    while (pos < text.length() && (peek() == ' ' || peek() == '\t')) {
      pos++;
    }
  }

  private void skipToLineEnd() {
    while (!atLineEnd()) {
      pos++;
    }
  }

  /** Past the line end at {@code pos} (LF, CRLF or a lone CR), if any. */
  private void nextLine() {
    if (pos < text.length() && peek() == '\r') {
      pos++;
    }
    if (pos < text.length() && peek() == '\n') {
      pos++;
    }
    line++;
  }
}
