package dev.locallambdas.export;

import static org.assertj.core.api.Assertions.assertThat;

import com.networknt.schema.Error;
import com.networknt.schema.InputFormat;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import dev.locallambdas.manifest.FunctionSpec;
import dev.locallambdas.manifest.LambdaEvent;
import dev.locallambdas.manifest.Manifest;
import dev.locallambdas.manifest.Protocol;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The templates {@code export sam} writes validate against the schema SAM publishes
 * (src/test/resources/sam: its source and licence), so {@code sam validate} and {@code sam deploy}
 * take them.
 */
class ExportSamSchemaTest {
  private static final Path DIR = Path.of("/srv/app");
  private static Schema sam;

  @BeforeAll
  static void loadSchema() throws IOException {
    try (InputStream in = ExportSamSchemaTest.class.getResourceAsStream("/sam/sam.schema.json")) {
      sam = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_4).getSchema(in);
    }
  }

  private static List<Error> validate(String template) {
    return sam.validate(template, InputFormat.YAML);
  }

  @Test
  void everyKindOfLambdaFunctionExportsToAValidTemplate() {
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
            .env("GREETING", "hej \"you\"\nsecond line")
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
    FunctionSpec python =
        FunctionSpec.builder("py")
            .executable("python3")
            .arg("-m")
            .arg("awslambdaric")
            .arg("app.handler")
            .protocol(Protocol.LAMBDA)
            .requestTimeout(Duration.ofHours(1)) // over Lambda's 900 s: capped
            .route("/py")
            .workingDir(DIR.resolve("py"))
            .build();
    FunctionSpec node =
        FunctionSpec.builder("node")
            .executable("npx")
            .arg("aws-lambda-ric")
            .arg("index.handler")
            .protocol(Protocol.LAMBDA)
            .route("/node/*")
            .workingDir(DIR.resolve("node"))
            .build();
    FunctionSpec raw =
        FunctionSpec.builder("raw")
            .executable("./bootstrap")
            .protocol(Protocol.LAMBDA)
            .event(LambdaEvent.RAW)
            .route("/raw")
            .workingDir(DIR)
            .build();
    FunctionSpec pipe =
        FunctionSpec.builder("pipe").executable("python3").route("/pipe/*").workingDir(DIR).build();
    String t =
        SamTemplate.of(
            new Manifest(
                DIR.resolve("manifest.xml"), false, List.of(java, rest, python, node, raw, pipe)));

    assertThat(validate(t)).as(t).isEmpty();
    assertThat(t).contains("RawFunction:").contains("PyFunction:").contains("NodeFunction:");
  }

  @Test
  void aManifestWithoutLambdaFunctionsExportsAnEmptyButValidTemplate() {
    FunctionSpec pipe =
        FunctionSpec.builder("pipe").executable("python3").route("/pipe/*").workingDir(DIR).build();
    String t = SamTemplate.of(new Manifest(DIR.resolve("manifest.xml"), false, List.of(pipe)));

    assertThat(validate(t)).as(t).isEmpty();
  }

  @Test
  void theSchemaRefusesWhatSamRefuses() {
    // Guards the test itself: a schema that accepted anything would prove nothing.
    String bad =
        """
        AWSTemplateFormatVersion: "2010-09-09"
        Transform: AWS::Serverless-2016-10-31
        Resources:
          F:
            Type: AWS::Serverless::Function
            Properties:
              MemorySize: "lots"
              NoSuchProperty: 1
        """;
    assertThat(validate(bad)).isNotEmpty();
  }
}
