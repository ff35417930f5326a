package dev.locallambdas.manifest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import dev.locallambdas.routing.RouteTable;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link ManifestReader#check}, the one check behind {@code validate} and {@code serve}: every
 * problem of a file at once, each at its line with its function, and nothing accepted that the
 * gateway would then refuse.
 */
class ManifestCheckTest {
  @TempDir Path dir;

  private ManifestCheck check(String xml) {
    return ManifestReader.check(ManifestFiles.write(dir, xml), dir, "/usr/bin:/bin");
  }

  private List<String> lines(ManifestCheck c) {
    return c.problems().stream().map(ManifestProblem::toString).toList();
  }

  private String file() {
    return dir.resolve("manifest.xml").toString();
  }

  @Test
  void ambiguousRoutesAreErrorsNamingBothFunctionsAndLines() {
    ManifestCheck c =
        check(
            """
            <manifest version="1">
              <function><id>a</id><executable>sh</executable><route>/x/*</route></function>
              <function><id>b</id><executable>sh</executable><route>/x/</route></function>
              <function><id>c</id><executable>sh</executable><route>/*</route></function>
              <function><id>d</id><executable>sh</executable><route>/</route></function>
            </manifest>
            """);

    assertThat(c.valid()).isFalse();
    assertThat(lines(c))
        .containsExactly(
            file()
                + ":3: <route> of 'b': route '/x/' is ambiguous with route '/x/*' of 'a' at line"
                + " 2: both match every path under '/x/' with the same specificity; keep one of"
                + " them",
            file()
                + ":5: <route> of 'd': route '/' is ambiguous with route '/*' of 'c' at line 4:"
                + " both match every path under '/' with the same specificity; keep one of them");
  }

  @Test
  void routesThatCouldNeverMatchAsWrittenAreErrorsThatGiveTheSpellingThatWould() {
    ManifestCheck c =
        check(
            """
            <manifest version="1">
              <function>
                <id>a</id>
                <executable>sh</executable>
                <route>/a//b</route>
                <route>/%7euser/</route>
                <route>/a/../b</route>
                <route>/ok/*</route>
              </function>
            </manifest>
            """);

    assertThat(lines(c))
        .containsExactly(
            file()
                + ":5: <route> of 'a': route '/a//b' is not in canonical form and could never"
                + " match as written; write '/a/b'",
            file()
                + ":6: <route> of 'a': route '/%7euser/' is not in canonical form and could never"
                + " match as written; write '/~user/'",
            file()
                + ":7: <route> of 'a': route '/a/../b' is not in canonical form and could never"
                + " match as written; write '/b'");
  }

  @Test
  void routesUnderTheAdminPrefixAreErrors() {
    ManifestCheck c =
        check(
            """
            <manifest version="1">
              <function>
                <id>a</id>
                <executable>sh</executable>
                <route>/.local-lambdas/*</route>
                <route>/.local-lambdas</route>
                <route>/.local-lambdas/functions/</route>
                <route>/.local-lambdasx</route>
              </function>
            </manifest>
            """);

    assertThat(c.errors()).extracting(ManifestProblem::line).containsExactly(5, 6, 7);
    assertThat(c.errors())
        .allSatisfy(
            p ->
                assertThat(p.message())
                    .contains("is under /.local-lambdas")
                    .contains("choose another path"));
  }

  @Test
  void everyProblemOfTheFileIsReportedAtOnceIncludingMissingPrograms() throws Exception {
    Files.createDirectories(dir.resolve("srv"));
    ManifestCheck c =
        check(
            """
            <manifest version="1">
              <function>
                <id>a</id>
                <executable>no-such-program-ll</executable>
                <route>/a/*</route>
                <max_instances>0</max_instances>
              </function>
              <function>
                <id>b</id>
                <executable>./bin/b</executable>
                <working_dir>srv</working_dir>
                <route>/a/</route>
              </function>
              <function>
                <id>c</id>
                <executable>sh</executable>
                <working_dir>nowhere</working_dir>
                <route>/c</route>
              </function>
            </manifest>
            """);

    assertThat(lines(c))
        .containsExactly(
            file()
                + ":4: <executable> of 'a': 'no-such-program-ll' was not found on PATH"
                + " (/usr/bin:/bin): install it, or give its path, e.g."
                + " <executable>./bin/no-such-program-ll</executable>",
            file() + ":6: <max_instances> of 'a': 0 is not allowed: it must be between 1 and 1024",
            file()
                + ":10: <executable> of 'b': './bin/b' not found: "
                + dir.resolve("srv/bin/b")
                + " does not exist (a relative path resolves against <working_dir>, here "
                + dir.resolve("srv")
                + "); fix the path in <executable>",
            file()
                + ":12: <route> of 'b': route '/a/' is ambiguous with route '/a/*' of 'a' at line"
                + " 5: both match every path under '/a/' with the same specificity; keep one of"
                + " them",
            file()
                + ":17: <working_dir> of 'c': directory "
                + dir.resolve("nowhere")
                + " does not exist: create it or fix <working_dir>");
  }

  @Test
  void anExecutableWithArgumentsInItIsExplained() {
    ManifestCheck c =
        check(
            """
            <manifest version="1">
              <function><id>a</id><executable>sh -c</executable><route>/a</route></function>
            </manifest>
            """);

    assertThat(c.errors())
        .singleElement()
        .extracting(ManifestProblem::message)
        .asString()
        .endsWith("arguments go in <arg> elements, e.g. <executable>sh</executable><arg>-c</arg>");
  }

  /**
   * The property behind "validate is the whole truth" for routes: whatever route patterns a
   * manifest holds, when the check accepts it, the gateway's route table accepts every route.
   */
  @Test
  void everyAcceptedManifestBuildsTheGatewaysRouteTable() throws Exception {
    List<String> plain = List.of("a", "b", "c", "d", "e", "%2F", "~");
    List<String> odd = List.of("", ".", "..", "%7e", ".local-lambdas", "a b", "*", "?", "a%zz");
    Random random = new Random(7);
    int accepted = 0;
    for (int n = 0; n < 300; n++) {
      StringBuilder xml = new StringBuilder("<manifest version=\"1\">\n");
      List<String> routes = new ArrayList<>();
      for (int f = 0; f < 3; f++) {
        xml.append("<function><id>f").append(f).append("</id><executable>sh</executable>");
        for (int r = 0; r < 2; r++) {
          StringBuilder route = new StringBuilder();
          int segments = random.nextInt(3);
          for (int s = 0; s < segments; s++) {
            List<String> from = random.nextInt(20) == 0 ? odd : plain;
            route.append('/').append(from.get(random.nextInt(from.size())));
          }
          route.append(List.of("", "/", "/*").get(random.nextInt(3)));
          String pattern = route.isEmpty() ? "/" : route.toString();
          routes.add(pattern);
          xml.append("<route>").append(pattern).append("</route>");
        }
        xml.append("</function>\n");
      }
      xml.append("</manifest>\n");
      ManifestCheck c = check(xml.toString());
      if (!c.valid()) {
        assertThat(c.errors())
            .as(xml.toString())
            .allSatisfy(p -> assertThat(p.line()).isPositive());
        continue;
      }
      accepted++;
      RouteTable.Builder<Object> table = RouteTable.builder();
      for (FunctionSpec f : c.manifest().functions()) {
        for (String route : f.routes()) {
          assertThatCode(() -> table.add(route, new Object()))
              .as(xml.toString())
              .doesNotThrowAnyException();
        }
      }
      assertThat(routes).hasSize(6);
    }
    assertThat(accepted).as("some random manifests are valid").isGreaterThan(20);
  }

  @Test
  void anEmptyOriginalManifestIsServedWithAWarning() {
    for (String xml : List.of("<manifest></manifest>\n", "<manifest/>\n")) {
      ManifestCheck c = check(xml);

      assertThat(c.valid()).as(xml).isTrue();
      assertThat(c.manifest().functions()).isEmpty();
      assertThat(lines(c))
          .containsExactly(
              file()
                  + ":1: warning: <manifest>: declares no <process>: nothing is routed, every"
                  + " request gets 404 (add a <process> with <id>, <executable> and <route>)");
    }
    assertThat(check("<manifest version=\"1\"/>\n").valid()).isFalse();
  }

  @Test
  void elementsTheOriginalIgnoredAreWarningsInTheOriginalFormatOnly() {
    String functions =
        """
          <description>my services</description>
          <process>
            <id>a</id>
            <executable>sh</executable>
            <route>/a</route>
            <description>the a service</description>
            <max_instance>2</max_instance>
          </process>
        </manifest>
        """;

    ManifestCheck original = check("<manifest>\n" + functions);
    assertThat(original.valid()).isTrue();
    assertThat(original.manifest().function("a").maxInstances()).isEqualTo(1);
    assertThat(lines(original))
        .containsExactly(
            file()
                + ":2: warning: <description>: ignored (as the original local_lambdas ignored"
                + " it): unknown element in <manifest>; known elements are process",
            file()
                + ":7: warning: <description> of 'a': unknown element, ignored (as the original"
                + " local_lambdas ignored it)",
            file()
                + ":8: warning: <max_instance> of 'a': unknown element, ignored (as the original"
                + " local_lambdas ignored it); did you mean <max_instances>?");

    ManifestCheck v1 = check("<manifest version=\"1\">\n" + functions);
    assertThat(v1.valid()).isFalse();
    assertThat(v1.warnings()).isEmpty();
    assertThat(lines(v1))
        .contains(
            file() + ":8: <max_instance> of 'a': unknown element: did you mean <max_instances>?");
  }

  @Test
  void anEmptyFileSaysSo() {
    for (String content : List.of("", "  \n\n", "\uFEFF\n")) {
      assertThat(lines(check(content)))
          .as("'%s'", content)
          .containsExactly(
              file()
                  + ":1: the file is empty: a manifest is a <manifest> element holding <process>"
                  + " elements, see docs/manifest.md");
    }
  }

  @Test
  void aByteOrderMarkCommentsCdataAndCharacterReferencesAreFine() throws Exception {
    Path file = dir.resolve("manifest.xml");
    Files.write(
        file,
        ("\uFEFF"
                + """
                <?xml version="1.0" encoding="UTF-8"?>
                <!-- a comment -->
                <manifest version="1">
                  <function><!-- inside -->
                    <id>a</id>
                    <executable><![CDATA[sh]]></executable>
                    <arg>&lt;&amp;&gt;&#65;</arg>
                    <route>/a</route>
                  </function>
                </manifest>
                """)
            .getBytes(StandardCharsets.UTF_8));

    ManifestCheck c = ManifestReader.check(file, dir, "/usr/bin:/bin");

    assertThat(c.problems()).isEmpty();
    assertThat(c.manifest().function("a").args()).containsExactly("<&>A");
  }

  @Test
  void veryLongValuesAreShortenedAndControlCharactersEscapedSoEachProblemIsOneLine() {
    String longId = "x".repeat(100_000);
    ManifestCheck c =
        check(
            """
            <manifest version="1">
              <function>
                <id>%s</id>
                <executable>sh</executable>
                <route>/a&#10;b</route>
                <idle_timeout>%s</idle_timeout>
              </function>
            </manifest>
            """
                .formatted(longId, "9".repeat(50_000)));

    List<String> lines = lines(c);
    assertThat(lines)
        .hasSize(3)
        .allSatisfy(l -> assertThat(l).hasSizeLessThan(400).doesNotContain("\n"));
    assertThat(lines.get(0)).contains("'" + "x".repeat(60) + "...' (100000 characters)");
    assertThat(lines.get(1)).contains("route '/a\\x0ab' is not a valid path");
    assertThat(lines.get(2)).contains("(50000 characters) has no unit");
  }

  @Test
  void aHugeFileIsNotRead() throws Exception {
    Path file = dir.resolve("manifest.xml");
    byte[] big = new byte[ManifestReader.MAX_BYTES + 1];
    java.util.Arrays.fill(big, (byte) ' ');
    Files.write(file, big);

    assertThat(ManifestReader.check(file, dir, "").problems())
        .singleElement()
        .asString()
        .isEqualTo(
            file + ": is larger than 16 MiB, which no manifest needs: is this the right file?");
  }

  @Test
  void invalidUtf8IsReportedAtItsLineWithoutTheParserPrintingToStderr() throws Exception {
    Path file = dir.resolve("manifest.xml");
    Files.write(
        file,
        "<manifest>\n<process><id>a\u00ff</id></process></manifest>\n"
            .getBytes(StandardCharsets.ISO_8859_1));
    java.io.PrintStream stderr = System.err;
    java.io.ByteArrayOutputStream captured = new java.io.ByteArrayOutputStream();
    ManifestCheck c;
    System.setErr(new java.io.PrintStream(captured, true, StandardCharsets.UTF_8));
    try {
      c = ManifestReader.check(file, dir, "");
    } finally {
      System.setErr(stderr);
    }

    assertThat(lines(c))
        .containsExactly(
            file()
                + ":2: the file is not valid UTF-8 (byte 0xFF): save it as UTF-8, or declare its"
                + " encoding, e.g. <?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>");
    assertThat(captured.toString(StandardCharsets.UTF_8)).isEmpty();

    Files.write(
        file,
        ("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n<manifest version=\"1\"><function>"
                + "<id>a</id><executable>sh</executable><arg>caf\u00e9</arg><route>/a</route>"
                + "</function></manifest>\n")
            .getBytes(StandardCharsets.ISO_8859_1));
    assertThat(ManifestReader.check(file, dir, "/usr/bin:/bin").manifest().function("a").args())
        .containsExactly("caf\u00e9");
  }

  @Test
  void aNamespaceIsReportedOnceWhereItIsDeclared() {
    assertThat(
            lines(
                check(
                    """
                    <manifest xmlns="urn:x">
                      <process><id>a</id><executable>sh</executable><route>/a</route></process>
                    </manifest>
                    """)))
        .containsExactly(
            file()
                + ":1: <manifest>: is in the XML namespace 'urn:x': manifest elements use no"
                + " namespace, remove the xmlns declaration");
  }
}
