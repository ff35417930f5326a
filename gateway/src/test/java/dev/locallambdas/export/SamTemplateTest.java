package dev.locallambdas.export;

import static org.assertj.core.api.Assertions.assertThat;

import dev.locallambdas.manifest.FunctionSpec;
import dev.locallambdas.manifest.LambdaEvent;
import dev.locallambdas.manifest.Manifest;
import dev.locallambdas.manifest.Protocol;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class SamTemplateTest {
  private static final Path DIR = Path.of("/srv/app");

  @Test
  void lambdaFunctionsBecomeServerlessFunctionsWithTheirEvents() {
    FunctionSpec java =
        FunctionSpec.builder("greet-api")
            .executable("java")
            .arg("-cp")
            .arg("lib/*")
            .arg("com.amazonaws.services.lambda.runtime.api.client.AWSLambda")
            .arg("example.Greet::handleRequest")
            .protocol(Protocol.LAMBDA)
            .memoryMb(512)
            .requestTimeout(Duration.ofMillis(2500))
            .env("GREETING", "hej \"you\"")
            .env("AWS_REGION", "eu-west-1")
            .route("/greet/*")
            .route("/health")
            .workingDir(DIR.resolve("greet"))
            .build();
    FunctionSpec rest =
        FunctionSpec.builder("rest")
            .executable("./bootstrap")
            .protocol(Protocol.LAMBDA)
            .handler("index.handler")
            .event(LambdaEvent.REST_API)
            .route("/*")
            .workingDir(DIR)
            .build();
    FunctionSpec pipe =
        FunctionSpec.builder("pipe").executable("python3").route("/pipe/*").workingDir(DIR).build();
    String t =
        SamTemplate.of(new Manifest(DIR.resolve("manifest.xml"), false, List.of(java, rest, pipe)));
    assertThat(t)
        .startsWith(
            "AWSTemplateFormatVersion: \"2010-09-09\"\nTransform: AWS::Serverless-2016-10-31\n")
        .contains("# Not exported: 'pipe' (protocol pipe)")
        .contains("  GreetApiFunction:\n    Type: AWS::Serverless::Function\n")
        .contains("      CodeUri: \"greet\"\n")
        .contains("      Runtime: \"java21\"\n")
        .contains("      Handler: \"example.Greet::handleRequest\"\n")
        .contains("      MemorySize: 512\n")
        .contains("      Timeout: 3\n")
        .contains("          \"GREETING\": \"hej \\\"you\\\"\"\n")
        .contains("# <env> AWS_REGION not exported")
        .contains("          Type: HttpApi\n")
        .contains("            Path: \"/greet/{proxy+}\"\n")
        .contains("            Path: \"/health\"\n")
        .contains("  RestFunction:\n")
        .contains("      Runtime: \"provided.al2023\"\n")
        .contains("      Handler: \"index.handler\"\n")
        .contains("          Type: Api\n")
        .contains("            Path: \"/{proxy+}\"\n");
  }
}
