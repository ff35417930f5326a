package dev.locallambdas.manifest;

/**
 * A value quoted for a problem message. A manifest may hold a megabyte in one element; a message
 * shows the start of such a value and its length, so each problem stays one readable line.
 */
final class Quote {
  private static final int LONGEST = 80;
  private static final int SHOWN = 60;

  private Quote() {}

  static String of(String value) {
    if (value == null) {
      return "null";
    }
    if (value.length() <= LONGEST) {
      return "'" + value + "'";
    }
    return "'" + value.substring(0, SHOWN) + "...' (" + value.length() + " characters)";
  }
}
