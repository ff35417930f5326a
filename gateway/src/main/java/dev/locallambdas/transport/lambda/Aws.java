package dev.locallambdas.transport.lambda;

import dev.locallambdas.manifest.FunctionSpec;

/**
 * The AWS names a local function goes by: its region (the gateway's AWS_REGION, else us-east-1), a
 * placeholder account, and the ARN a runtime sees as Lambda-Runtime-Invoked-Function-Arn.
 */
record Aws(String functionName, String region, String accountId) {
  static final String VERSION = "$LATEST";

  /** Twelve digits, as every account id; no real account has it. */
  static final String ACCOUNT = "000000000000";

  static Aws of(FunctionSpec spec) {
    String region = spec.env().get("AWS_REGION");
    if (region == null) {
      region = System.getenv("AWS_REGION");
    }
    if (region == null || region.isBlank()) {
      region = "us-east-1";
    }
    return new Aws(spec.id(), region, ACCOUNT);
  }

  String functionArn() {
    return "arn:aws:lambda:" + region + ":" + accountId + ":function:" + functionName;
  }
}
