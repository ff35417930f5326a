package dev.locallambdas.cache;

import dev.locallambdas.exchange.Headers;

/**
 * Read access to a request's header fields, so the cache needs no particular header type. {@code
 * get} takes a lower-case name and returns the field's value with repeated field lines combined by
 * ", " (RFC 9110 section 5.3), or null when the field is absent. Called on the thread that calls
 * {@link FunctionCache#lookup}, and for a request that goes to the function also on the thread that
 * ends its response (to record the fields named by Vary), so it must stay readable until then.
 */
@FunctionalInterface
public interface RequestFields {
  String get(String lowerCaseName);

  /**
   * Fields from {@link Headers} (whose names are lower case); allocates only for repeated fields.
   */
  static RequestFields of(Headers headers) {
    return name -> {
      String first = null;
      StringBuilder more = null;
      for (int i = 0; i < headers.size(); i++) {
        if (headers.name(i).equals(name)) {
          if (first == null) {
            first = headers.value(i);
          } else {
            if (more == null) {
              more = new StringBuilder(first);
            }
            more.append(", ").append(headers.value(i));
          }
        }
      }
      return more != null ? more.toString() : first;
    };
  }
}
