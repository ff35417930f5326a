package dev.locallambdas.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.locallambdas.manifest.FunctionSpec;
import dev.locallambdas.manifest.Protocol;
import dev.locallambdas.server.Gateway;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The Runtime API against a hand-written runtime that misbehaves on cue (children/lambda_rogue.py):
 * what it is told (headers, variables, the event), and AWS's answers to a second response, an
 * unknown request id, an oversized response, a huge error header; the client's answers when the
 * runtime answers nonsense, exits mid-invocation or never answers.
 */
@ExtendWith(NoLeaks.class)
class LambdaRuntimeApiTest {
  private Gateway gateway;
  private HttpTestClient http;

  @BeforeEach
  void start() throws Exception {
    FunctionSpec rogue =
        FunctionSpec.builder("rogue")
            .executable("python3")
            .arg(TestManifests.child("lambda_rogue.py").toString())
            .protocol(Protocol.LAMBDA)
            .handler("rogue.handler")
            .route("/rogue/*")
            .requestTimeout(Duration.ofSeconds(3))
            .workingDir(TestManifests.repo())
            .build();
    gateway =
        Gateway.start(
            TestManifests.manifest(rogue),
            new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    http = new HttpTestClient(gateway.address());
  }

  @AfterEach
  void stop() {
    gateway.close();
  }

  private String ok() throws Exception {
    HttpResponse<String> r = http.get("/rogue/x?mode=ok");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return r.body().replace("\": ", "\":").replace(", ", ",");
  }

  @Test
  void theRuntimeGetsAwsHeadersVariablesAndAnHttpApiEvent() throws Exception {
    String body = ok();
    assertThat(body)
        .contains("\"lambda-runtime-aws-request-id\":")
        .contains("\"lambda-runtime-deadline-ms\":")
        .contains("\"lambda-runtime-invoked-function-arn\":\"arn:aws:lambda:")
        .contains("\"lambda-runtime-trace-id\":\"Root=1-")
        .contains("\"AWS_LAMBDA_FUNCTION_NAME\":\"rogue\"")
        .contains("\"_HANDLER\":\"rogue.handler\"")
        .contains("\"AWS_LAMBDA_FUNCTION_MEMORY_SIZE\":\"128\"")
        .contains("\"AWS_LAMBDA_FUNCTION_VERSION\":\"$LATEST\"")
        .contains("\"AWS_LAMBDA_LOG_GROUP_NAME\":\"/aws/lambda/rogue\"")
        .contains("\"TZ\":\":UTC\"")
        .contains("\"AWS_LAMBDA_RUNTIME_API\":\"127.0.0.1:")
        .contains("\"version\":\"2.0\"")
        .contains("\"routeKey\":\"$default\"")
        .contains("\"rawQueryString\":\"mode=ok\"")
        .contains("\"queryStringParameters\":{\"mode\":\"ok\"}");
  }

  @Test
  void aSecondResponseGets403AndAnUnknownIdGets400() throws Exception {
    ok();
    String body = ok();
    assertThat(body)
        .contains("\"response\":202")
        .contains("\"second\":[403,{\"errorMessage\":")
        .contains("\"errorType\":\"InvalidStateTransition\"")
        .contains("\"unknown\":[400,{\"errorMessage\":\"Invalid request ID\"")
        .contains("\"errorType\":\"InvalidRequestID\"");
  }

  @Test
  void aResponseOverSixMegabytesGets413AndTheClientA502() throws Exception {
    HttpResponse<String> r = http.get("/rogue/x?mode=big");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(502);
    assertThat(r.body()).contains("over Lambda's limit");
    assertThat(ok()).contains("\"big\":[413,").contains("\"errorType\":\"RequestEntityTooLarge\"");
  }

  @Test
  void anErrorWithFortyKilobytesOfHeaderIsAccepted() throws Exception {
    HttpResponse<String> r = http.get("/rogue/x?mode=error");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(500);
    assertThat(r.body()).contains("RogueError: rogue failure");
    assertThat(ok()).contains("\"error\":202");
  }

  @Test
  void aResultThatIsNotJsonGives502AndTheEnvironmentServesOn() throws Exception {
    HttpResponse<String> r = http.get("/rogue/x?mode=notjson");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(502);
    assertThat(r.body()).contains("not JSON");
    assertThat(ok()).contains("\"notjson\":202");
  }

  @Test
  void aRuntimeThatExitsMidInvocationGives502NamingTheExit() throws Exception {
    HttpResponse<String> r = http.get("/rogue/x?mode=exit");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(502);
    assertThat(r.body()).contains("exited with status 3");
    ok(); // a new environment
  }

  @Test
  void aRuntimeThatNeverAnswersGets504AndIsReplaced() throws Exception {
    HttpResponse<String> r = http.get("/rogue/x?mode=silent");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(504);
    ok();
  }
}
