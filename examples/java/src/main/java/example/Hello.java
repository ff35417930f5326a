package example;

import dev.locallambdas.sdk.Handler;
import dev.locallambdas.sdk.LocalLambdas;
import dev.locallambdas.sdk.Request;
import dev.locallambdas.sdk.Response;

/**
 * A pipe function that greets: {@code {"greeting":"hello","path":"/hello","query":"a=1",
 * "runtime":"java"}}. The greeting comes from the GREETING environment variable (default "hello"),
 * which a manifest can set per function.
 *
 * <p>A named class instead of a lambda keeps the cold start a few milliseconds shorter: the first
 * lambda in a JVM bootstraps the invokedynamic machinery.
 */
public final class Hello implements Handler {

  private final String greeting;

  private Hello(String greeting) {
    this.greeting = greeting;
  }

  public static void main(String[] args) {
    String greeting = System.getenv("GREETING");
    // serve() connects to the gateway at PIPE_ADDRESS and never returns.
    LocalLambdas.serve(new Hello(greeting == null ? "hello" : greeting));
  }

  @Override
  public Response handle(Request request) {
    String query = request.query();
    StringBuilder json = new StringBuilder(128);
    json.append("{\"greeting\":");
    quote(json, greeting);
    json.append(",\"path\":");
    quote(json, request.path());
    json.append(",\"query\":");
    if (query == null) {
      json.append("null");
    } else {
      quote(json, query);
    }
    json.append(",\"runtime\":\"java\"}");
    return Response.json(json.toString());
  }

  /** Appends a JSON string literal; no JSON library, so the function has no dependencies. */
  static void quote(StringBuilder json, String text) {
    json.append('"');
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c == '"' || c == '\\') {
        json.append('\\').append(c);
      } else if (c < 0x20) {
        json.append("\\u00");
        json.append(Character.forDigit(c >> 4, 16)).append(Character.forDigit(c & 0xF, 16));
      } else {
        json.append(c);
      }
    }
    json.append('"');
  }
}
