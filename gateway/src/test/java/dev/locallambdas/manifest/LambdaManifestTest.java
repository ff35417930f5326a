package dev.locallambdas.manifest;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The manifest elements of lambda, cgi and in-process functions (docs/lambda.md). */
class LambdaManifestTest {
  @TempDir Path dir;

  @Test
  void aLambdaFunctionReadsHandlerMemoryEventAndLambdaDefaults() throws Exception {
    Manifest m =
        ManifestReader.read(
            ManifestFiles.write(
                dir,
                """
                <manifest version="1">
                  <function>
                    <id>greet</id>
                    <protocol>lambda</protocol>
                    <executable>sh</executable>
                    <handler>example.Greet::handleRequest</handler>
                    <memory>512</memory>
                    <event>rest-api</event>
                    <route>/greet/*</route>
                  </function>
                  <function>
                    <id>multi</id>
                    <protocol>lambda</protocol>
                    <executable>sh</executable>
                    <env name="AWS_LAMBDA_MAX_CONCURRENCY">8</env>
                    <route>/multi/*</route>
                  </function>
                </manifest>
                """));
    FunctionSpec f = m.function("greet");
    assertThat(f.protocol()).isEqualTo(Protocol.LAMBDA);
    assertThat(f.handler()).isEqualTo("example.Greet::handleRequest");
    assertThat(f.memoryMb()).isEqualTo(512);
    assertThat(f.event()).isEqualTo(LambdaEvent.REST_API);
    assertThat(f.concurrency()).isEqualTo(1);
    assertThat(f.maxInstances()).isEqualTo(4);
    assertThat(f.maxBodyBytes()).isEqualTo(6L * 1024 * 1024);
    assertThat(m.function("multi").concurrency()).isEqualTo(8);
    assertThat(m.function("multi").event()).isEqualTo(LambdaEvent.HTTP_API);
  }

  @Test
  void lambdaElementsOnOtherProtocolsAndBadValuesAreRefusedWithTheReason() {
    List<String> problems =
        ManifestFiles.rejected(
                dir,
                """
                <manifest version="1">
                  <function>
                    <id>a</id>
                    <executable>sh</executable>
                    <handler>x</handler>
                    <route>/a/*</route>
                  </function>
                  <function>
                    <id>b</id>
                    <protocol>lambda</protocol>
                    <executable>sh</executable>
                    <memory>64</memory>
                    <event>sqs</event>
                    <route>/b/*</route>
                  </function>
                  <function>
                    <id>c</id>
                    <protocol>in-process</protocol>
                    <executable>code.jar</executable>
                    <route>/c/*</route>
                  </function>
                </manifest>
                """)
            .problems()
            .stream()
            .map(ManifestProblem::toString)
            .toList();
    assertThat(problems)
        .anySatisfy(p -> assertThat(p).contains("<handler> of 'a'").contains("only apply"))
        .anySatisfy(p -> assertThat(p).contains("<memory> of 'b'").contains("128 and 10240"))
        .anySatisfy(p -> assertThat(p).contains("<event> of 'b'").contains("http-api"))
        .anySatisfy(p -> assertThat(p).contains("'c'").contains("needs a <handler>"));
  }
}
