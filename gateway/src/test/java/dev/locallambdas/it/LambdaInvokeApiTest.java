package dev.locallambdas.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.locallambdas.server.Gateway;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.InvocationType;
import software.amazon.awssdk.services.lambda.model.InvokeResponse;
import software.amazon.awssdk.services.lambda.model.LogType;
import software.amazon.awssdk.services.lambda.model.ResourceNotFoundException;

/**
 * The Invoke API (POST /2015-03-31/functions/NAME/invocations) called by the AWS SDK for Java v2
 * Lambda client, unmodified, pointed at the gateway; the functions run under the official Java
 * runtime interface client.
 */
@ExtendWith(NoLeaks.class)
class LambdaInvokeApiTest {
  private Gateway gateway;
  private LambdaClient lambda;

  @BeforeEach
  void start() throws Exception {
    gateway =
        Gateway.start(
            TestManifests.manifest(
                LambdaRuntimeTest.javaLambda("bare", "dev.locallambdas.it.lambda.BareHandler")
                    .build(),
                LambdaRuntimeTest.javaLambda("throws", "dev.locallambdas.it.lambda.ThrowingHandler")
                    .build(),
                LambdaRuntimeTest.javaLambda("print", "dev.locallambdas.it.lambda.PrintingHandler")
                    .build()),
            new InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), 0));
    lambda =
        LambdaClient.builder()
            .endpointOverride(URI.create("http://127.0.0.1:" + gateway.address().getPort()))
            .region(Region.US_EAST_1)
            .credentialsProvider(
                StaticCredentialsProvider.create(AwsBasicCredentials.create("local", "local")))
            .build();
  }

  @AfterEach
  void stop() {
    lambda.close();
    gateway.close();
  }

  @Test
  void aRequestResponseInvocationReturnsTheHandlersResult() {
    InvokeResponse r =
        lambda.invoke(
            b ->
                b.functionName("bare")
                    .payload(
                        SdkBytes.fromString("{\"rawPath\":\"/sdk\"}", StandardCharsets.UTF_8)));
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.functionError()).isNull();
    assertThat(r.executedVersion()).isEqualTo("$LATEST");
    assertThat(r.payload().asUtf8String())
        .contains("\"hello\":\"world\"")
        .contains("\"rawPath\":\"/sdk\"");
  }

  @Test
  void theLogTailHoldsTheInvocationsLogLines() {
    InvokeResponse r =
        lambda.invoke(
            b ->
                b.functionName("print")
                    .logType(LogType.TAIL)
                    .payload(
                        SdkBytes.fromString("{\"rawPath\":\"/tail\"}", StandardCharsets.UTF_8)));
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.logResult()).isNotNull();
    String log = new String(Base64.getDecoder().decode(r.logResult()), StandardCharsets.UTF_8);
    assertThat(log)
        .contains("START RequestId: ")
        .contains("printing handler called for /tail")
        .contains("END RequestId: ")
        .contains("REPORT RequestId: ");
    assertThat(log.getBytes(StandardCharsets.UTF_8).length).isLessThanOrEqualTo(4096);
    // Without asking, no log.
    assertThat(lambda.invoke(b -> b.functionName("print")).logResult()).isNull();
  }

  @Test
  void aFailedInvocationsLogTailHasItsError() {
    InvokeResponse r = lambda.invoke(b -> b.functionName("throws").logType(LogType.TAIL));
    assertThat(r.functionError()).isEqualTo("Unhandled");
    String log = new String(Base64.getDecoder().decode(r.logResult()), StandardCharsets.UTF_8);
    assertThat(log).contains("START RequestId: ").contains("REPORT RequestId: ");
  }

  @Test
  void aHandlerErrorIsA200WithXAmzFunctionError() {
    InvokeResponse r = lambda.invoke(b -> b.functionName("throws"));
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.functionError()).isEqualTo("Unhandled");
    assertThat(r.payload().asUtf8String())
        .contains("\"errorType\":\"java.lang.IllegalStateException\"")
        .contains("the handler gave up");
  }

  @Test
  void anEventInvocationIsAccepted() {
    InvokeResponse r =
        lambda.invoke(b -> b.functionName("bare").invocationType(InvocationType.EVENT));
    assertThat(r.statusCode()).isEqualTo(202);
  }

  @Test
  void aDryRunRunsNothing() {
    InvokeResponse r =
        lambda.invoke(b -> b.functionName("bare").invocationType(InvocationType.DRY_RUN));
    assertThat(r.statusCode()).isEqualTo(204);
  }

  @Test
  void anUnknownFunctionIsResourceNotFound() {
    assertThatThrownBy(() -> lambda.invoke(b -> b.functionName("nobody")))
        .isInstanceOf(ResourceNotFoundException.class);
  }
}
