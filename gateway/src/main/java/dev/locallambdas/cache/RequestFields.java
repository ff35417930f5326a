package dev.locallambdas.cache;

import dev.locallambdas.exchange.Headers;
import java.util.List;

/**
 * Read access to a request's header fields, so the cache needs no particular header type. {@code
 * get} takes a lower-case name and returns the field's value with repeated field lines combined by
 * ", " (RFC 9110 section 5.3), or null when the field is absent. Called on the thread that calls
 * {@link FunctionCache#lookup}, and for a request that goes to the function also on the thread
 * that ends its response (to record the fields named by Vary), so it must stay readable until then.
 */
@FunctionalInterface
public interface RequestFields {
  String get(String lowerCaseName);

  static RequestFields of(Headers headers) {
    return name -> {
      List<String> all = headers.all(name);
      return all.isEmpty() ? null : all.size() == 1 ? all.getFirst() : String.join(", ", all);
    };
  }
}
