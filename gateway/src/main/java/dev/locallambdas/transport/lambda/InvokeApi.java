package dev.locallambdas.transport.lambda;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The Lambda Invoke API's path, {@code POST /2015-03-31/functions/NAME/invocations}, which the
 * front door serves for every lambda function before routing (so the AWS SDKs and {@code aws lambda
 * invoke --endpoint-url} reach local functions), and the transport recognises to pass the payload
 * and the result through unchanged.
 */
public final class InvokeApi {
  private static final Pattern PATH = Pattern.compile("/2015-03-31/functions/([^/]+)/invocations");

  private InvokeApi() {}

  /**
   * The function named in an Invoke API path (a name, or an ARN whose last part is the name), or
   * null when {@code path} is not one.
   */
  public static String functionName(String path) {
    if (!path.startsWith("/2015-03-31/functions/")) {
      return null;
    }
    Matcher m = PATH.matcher(path);
    if (!m.matches()) {
      return null;
    }
    String name = m.group(1);
    // arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER], percent-encoded or not
    name = name.replace("%3A", ":").replace("%3a", ":");
    String[] parts = name.split(":", -1);
    if (parts.length >= 7 && parts[0].equals("arn")) {
      return parts[6];
    }
    return parts[0];
  }
}
