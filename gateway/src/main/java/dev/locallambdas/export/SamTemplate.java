package dev.locallambdas.export;

import dev.locallambdas.json.Json;
import dev.locallambdas.manifest.FunctionSpec;
import dev.locallambdas.manifest.LambdaEvent;
import dev.locallambdas.manifest.Manifest;
import dev.locallambdas.manifest.Protocol;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Writes an AWS SAM template for a manifest's lambda functions ({@code local-lambdas export sam}):
 * one {@code AWS::Serverless::Function} per function, with its runtime, handler, code location,
 * memory, timeout, environment and an {@code HttpApi} (or, for rest-api events, {@code Api}) event
 * per route, so what runs here deploys to AWS Lambda. What cannot be exported is said in comments
 * of the template (docs/lambda.md, "Exporting to AWS SAM").
 */
public final class SamTemplate {
  private static final String RIC_MAIN =
      "com.amazonaws.services.lambda.runtime.api.client.AWSLambda";

  /** Lambda's longest timeout, in seconds. */
  static final long MAX_TIMEOUT_SECONDS = 900;

  private SamTemplate() {}

  /** The template, as YAML (every string double-quoted, so nothing is read as another type). */
  public static String of(Manifest manifest) {
    StringBuilder y = new StringBuilder();
    Path base = manifest.source().toAbsolutePath().getParent();
    y.append("AWSTemplateFormatVersion: \"2010-09-09\"\n");
    y.append("Transform: AWS::Serverless-2016-10-31\n");
    y.append("Description: ")
        .append(q("Exported by local-lambdas from " + manifest.source().getFileName()))
        .append('\n');
    StringBuilder skipped = new StringBuilder();
    StringBuilder resources = new StringBuilder();
    for (FunctionSpec f : manifest.functions()) {
      if (f.protocol() != Protocol.LAMBDA) {
        skipped
            .append("# Not exported: '")
            .append(f.id())
            .append("' (protocol ")
            .append(f.protocol().manifestName())
            .append(") is not a Lambda function; only <protocol>lambda</protocol> functions run on")
            .append(" AWS Lambda.\n");
        continue;
      }
      function(resources, f, base);
    }
    y.append(skipped);
    if (resources.isEmpty()) {
      y.append("# The manifest has no lambda functions: there is nothing to deploy.\n");
      y.append("Resources: {}\n");
      return y.toString();
    }
    y.append("Resources:\n").append(resources);
    return y.toString();
  }

  private static void function(StringBuilder y, FunctionSpec f, Path base) {
    LambdaRuntime runtime = runtime(f);
    y.append("  ").append(logicalId(f.id())).append(":\n");
    y.append("    Type: AWS::Serverless::Function\n");
    if (runtime.note() != null) {
      y.append("    # ").append(runtime.note()).append('\n');
    }
    y.append("    Properties:\n");
    y.append("      FunctionName: ").append(q(f.id())).append('\n');
    Path code = f.workingDir() != null ? f.workingDir() : base;
    String codeUri = base.relativize(code.toAbsolutePath()).toString();
    y.append("      CodeUri: ").append(q(codeUri.isEmpty() ? "." : codeUri)).append('\n');
    y.append("      Runtime: ").append(q(runtime.name())).append('\n');
    String handler = f.handler() != null ? f.handler() : runtime.handler();
    y.append("      Handler: ").append(q(handler)).append('\n');
    y.append("      MemorySize: ").append(f.memoryMb()).append('\n');
    long timeout =
        Math.min(MAX_TIMEOUT_SECONDS, Math.max(1, (f.requestTimeout().toMillis() + 999) / 1000));
    y.append("      Timeout: ").append(timeout).append('\n');
    StringBuilder vars = new StringBuilder();
    for (Map.Entry<String, String> e : f.env().entrySet()) {
      if (reserved(e.getKey())) {
        y.append("      # <env> ")
            .append(e.getKey())
            .append(" not exported: Lambda reserves it and sets it itself.\n");
      } else {
        vars.append("          ").append(q(e.getKey())).append(": ").append(q(e.getValue()));
        vars.append('\n');
      }
    }
    if (!vars.isEmpty()) {
      y.append("      Environment:\n        Variables:\n").append(vars);
    }
    if (f.event() == LambdaEvent.RAW) {
      y.append("      # <event>raw</event>: no HTTP events; call it with aws lambda invoke.\n");
      return;
    }
    y.append("      Events:\n");
    List<String> routes = f.routes();
    for (int i = 0; i < routes.size(); i++) {
      y.append("        Route").append(i + 1).append(":\n");
      y.append("          Type: ")
          .append(f.event() == LambdaEvent.REST_API ? "Api" : "HttpApi")
          .append('\n');
      y.append("          Properties:\n");
      y.append("            Path: ").append(q(apiPath(routes.get(i)))).append('\n');
      y.append("            Method: ANY\n");
    }
  }

  /** The variables Lambda sets itself and refuses in a function's configuration. */
  static boolean reserved(String name) {
    return name.startsWith("AWS_LAMBDA_")
        || name.startsWith("_")
        || List.of(
                "AWS_REGION",
                "AWS_DEFAULT_REGION",
                "AWS_EXECUTION_ENV",
                "AWS_ACCESS_KEY",
                "AWS_ACCESS_KEY_ID",
                "AWS_SECRET_ACCESS_KEY",
                "AWS_SESSION_TOKEN",
                "LAMBDA_TASK_ROOT",
                "LAMBDA_RUNTIME_DIR")
            .contains(name);
  }

  /** A runtime AWS provides, or a custom runtime with what its code package needs. */
  record LambdaRuntime(String name, String handler, String note) {}

  static LambdaRuntime runtime(FunctionSpec f) {
    String program = Path.of(f.executable()).getFileName().toString().toLowerCase(Locale.ROOT);
    List<String> args = f.args();
    if (program.startsWith("java") && args.contains(RIC_MAIN)) {
      int i = args.indexOf(RIC_MAIN);
      String handler = i + 1 < args.size() ? args.get(i + 1) : "";
      return new LambdaRuntime(
          "java21",
          handler,
          "CodeUri must hold the handler's classes or jar and its dependencies (lib/*.jar), as"
              + " the class path of the manifest does.");
    }
    if (program.startsWith("python")
        && args.size() >= 3
        && args.get(0).equals("-m")
        && args.get(1).equals("awslambdaric")) {
      return new LambdaRuntime("python3.12", args.get(2), null);
    }
    if ((program.equals("npx") && args.contains("aws-lambda-ric"))
        || (program.equals("node") && args.stream().anyMatch(a -> a.contains("aws-lambda-ric")))) {
      return new LambdaRuntime("nodejs20.x", args.isEmpty() ? "" : args.getLast(), null);
    }
    return new LambdaRuntime(
        "provided.al2023",
        "bootstrap",
        "Custom runtime: CodeUri needs an executable 'bootstrap' that runs: "
            + f.executable()
            + (args.isEmpty() ? "" : " " + String.join(" ", args))
            + " (and Lambda's image must provide that program).");
  }

  /** "/api/*" to "/api/{proxy+}", "/*" to "/{proxy+}", exact paths unchanged. */
  static String apiPath(String route) {
    if (route.equals("/*") || route.equals("*")) {
      return "/{proxy+}";
    }
    if (route.endsWith("/*")) {
      return route.substring(0, route.length() - 1) + "{proxy+}";
    }
    return route;
  }

  /** A CloudFormation logical id: alphanumeric, from the function id. */
  static String logicalId(String id) {
    StringBuilder sb = new StringBuilder();
    boolean upper = true;
    for (int i = 0; i < id.length(); i++) {
      char c = id.charAt(i);
      if (Character.isLetterOrDigit(c) && c < 128) {
        sb.append(upper ? Character.toUpperCase(c) : c);
        upper = false;
      } else {
        upper = true;
      }
    }
    return sb.append("Function").toString();
  }

  private static String q(String s) {
    return Json.appendString(new StringBuilder(), s).toString();
  }
}
