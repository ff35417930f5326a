package dev.locallambdas.manifest;

/** The event a Lambda function receives for an HTTP request ({@code <event>}, docs/lambda.md). */
public enum LambdaEvent {
  /** API Gateway HTTP API, payload format 2.0 (AWS's default for new APIs). */
  HTTP_API("http-api"),
  /** API Gateway REST API proxy integration, payload format 1.0. */
  REST_API("rest-api"),
  /** The request body itself, as {@code aws lambda invoke --payload} sends it. */
  RAW("raw");

  private final String manifestName;

  LambdaEvent(String manifestName) {
    this.manifestName = manifestName;
  }

  /** The spelling used in manifest.xml. */
  public String manifestName() {
    return manifestName;
  }
}
