package dev.locallambdas.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code validate} and {@code serve} as a CI job runs them, on manifests a user might have: both
 * report the same problems, all of them, each as FILE:LINE naming the function; errors exit
 * non-zero, warnings alone exit zero.
 */
@ExtendWith(NoLeaks.class)
class ManifestCommandsTest {
  @TempDir Path temp;
  private MainProcess serving;

  @AfterEach
  void stop() throws InterruptedException {
    if (serving != null) {
      serving.stop();
    }
  }

  private MainProcess run(String... args) throws Exception {
    return MainProcess.run(temp, temp.resolve("logs"), args);
  }

  private Path write(String name, String xml) throws Exception {
    return Files.writeString(temp.resolve(name), xml);
  }

  @Test
  void validateAndServeReportEveryProblemOfTheFileAtOnce() throws Exception {
    Path file =
        write(
            "manifest.xml",
            """
            <manifest version="1">
              <function><id>a</id><executable>sh</executable><route>/x/*</route></function>
              <function><id>b</id><executable>sh</executable><route>/x/</route></function>
              <function><id>c</id><executable>sh</executable><route>/*</route></function>
              <function><id>d</id><executable>no-such-program-ll</executable><route>/</route></function>
              <function>
                <id>e</id>
                <executable>sh</executable>
                <route>/a//b</route>
                <route>/%7euser/</route>
                <route>/a/../b</route>
                <route>/.local-lambdas/*</route>
              </function>
            </manifest>
            """);
    String[] expected = {
      file + ":3: <route> of 'b': route '/x/' is ambiguous with route '/x/*' of 'a' at line 2",
      file + ":5: <executable> of 'd': 'no-such-program-ll' was not found on PATH",
      file + ":5: <route> of 'd': route '/' is ambiguous with route '/*' of 'c' at line 4",
      file + ":9: <route> of 'e': route '/a//b' is not in canonical form",
      file + ":10: <route> of 'e': route '/%7euser/' is not in canonical form",
      file + ":11: <route> of 'e': route '/a/../b' is not in canonical form",
      file + ":12: <route> of 'e': route '/.local-lambdas/*' is under /.local-lambdas",
    };

    MainProcess validate = run("validate", file.toString());
    assertThat(validate.exitCode()).isEqualTo(1);
    assertThat(validate.stdout()).doesNotContain("valid,");
    assertThat(validate.stderr()).contains(expected);

    MainProcess serve = run("serve", file.toString(), "--bind", "127.0.0.1:0");
    assertThat(serve.exitCode()).isEqualTo(2);
    assertThat(serve.stderr())
        .contains(expected)
        .contains("nothing was started")
        .doesNotContain("FunctionPool")
        .doesNotContain("@");
  }

  @Test
  void anEmptyOriginalManifestIsServedWithAWarningThatNothingIsRouted() throws Exception {
    Path file = write("manifest.xml", "<manifest></manifest>\n");

    MainProcess validate = run("validate", file.toString());
    assertThat(validate.exitCode()).as(validate.stderr()).isZero();
    assertThat(validate.stderr()).contains(file + ":1: warning: <manifest>: declares no <process>");
    assertThat(validate.stdout()).contains("valid, 0 function(s)").contains("1 warning(s)");

    serving =
        MainProcess.start(
            temp, temp.resolve("logs"), "serve", file.toString(), "--bind", "127.0.0.1:0");
    HttpTestClient http = new HttpTestClient(serving.awaitServing());
    assertThat(http.get("/anything").statusCode()).isEqualTo(404);
    assertThat(serving.stderr()).contains("nothing is routed");
  }

  @Test
  void anElementTheOriginalIgnoredIsAWarningThereAndAnErrorInVersion1() throws Exception {
    String body =
        """
          <process>
            <id>a</id>
            <executable>sh</executable>
            <route>/a</route>
            <description>what a does</description>
            <max_instance>2</max_instance>
          </process>
        </manifest>
        """;
    Path original = write("original.xml", "<manifest>\n" + body);
    Path v1 = write("v1.xml", "<manifest version=\"1\">\n" + body);

    MainProcess lenient = run("validate", original.toString());
    assertThat(lenient.exitCode()).as(lenient.stderr()).isZero();
    assertThat(lenient.stderr())
        .contains(original + ":6: warning: <description> of 'a': unknown element, ignored")
        .contains(
            original
                + ":7: warning: <max_instance> of 'a': unknown element, ignored (as the"
                + " original local_lambdas ignored it); did you mean <max_instances>?");

    MainProcess strict = run("validate", v1.toString());
    assertThat(strict.exitCode()).isEqualTo(1);
    assertThat(strict.stderr())
        .contains(v1 + ":7: <max_instance> of 'a': unknown element: did you mean <max_instances>?");
  }

  @Test
  void hostileAndOddFilesGetAClearAnswerWithFileAndLine() throws Exception {
    Path empty = write("empty.xml", "");
    MainProcess e = run("validate", empty.toString());
    assertThat(e.exitCode()).isEqualTo(1);
    assertThat(e.stderr()).contains(empty + ":1: the file is empty");

    Path notXml = write("notxml.xml", "id: a\nroute: /a\n");
    MainProcess n = run("validate", notXml.toString());
    assertThat(n.exitCode()).isEqualTo(1);
    assertThat(n.stderr()).contains(notXml + ":1: not well-formed XML");

    Path entity =
        write(
            "entity.xml",
            """
            <manifest version="1">
            <function><id>a</id><executable>sh</executable>
            <arg>&nbsp;</arg><route>/a</route></function></manifest>
            """);
    MainProcess en = run("validate", entity.toString());
    assertThat(en.exitCode()).isEqualTo(1);
    assertThat(en.stderr()).contains(entity + ":3: not well-formed XML").contains("nbsp");

    Path longValue =
        write(
            "long.xml",
            "<manifest version=\"1\"><function><id>"
                + "i".repeat(200_000)
                + "</id><executable>sh</executable><route>/a</route></function></manifest>\n");
    MainProcess l = run("validate", longValue.toString());
    assertThat(l.exitCode()).isEqualTo(1);
    assertThat(l.stderr()).contains("(200000 characters)").hasSizeLessThan(2000);

    Path dup =
        write(
            "dup.xml",
            """
            <manifest>
              <process><id>a</id><executable>sh</executable><route>/a</route></process>
              <process><id>a</id><executable>sh</executable><route>/b</route>
                <communication_mode>grpc</communication_mode></process>
            </manifest>
            """);
    MainProcess d = run("validate", dup.toString());
    assertThat(d.exitCode()).isEqualTo(1);
    assertThat(d.stderr())
        .contains(dup + ":3: <id>: function id 'a' is used twice, at lines 2 and 3")
        .contains(dup + ":4: <communication_mode> of 'a': 'grpc' is not allowed: use http or pipe");
  }
}
