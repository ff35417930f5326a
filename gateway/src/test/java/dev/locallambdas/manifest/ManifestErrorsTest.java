package dev.locallambdas.manifest;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ManifestErrorsTest {
  @TempDir Path dir;

  private List<String> problems(String xml) {
    return ManifestFiles.rejected(dir, xml).problems().stream()
        .map(ManifestProblem::toString)
        .toList();
  }

  private String file() {
    return dir.resolve("manifest.xml").toString();
  }

  @Test
  void outOfRangeValueNamesFileLineElementAndFunction() {
    ManifestException e =
        ManifestFiles.rejected(
            dir,
            """
            <manifest version="1">
              <process>
                <id>hello</id>
                <executable>python3</executable>
                <route>/hello/*</route>
                <max_instances>0</max_instances>
              </process>
            </manifest>
            """);

    assertThat(e.problems())
        .containsExactly(
            new ManifestProblem(
                dir.resolve("manifest.xml"),
                6,
                "<max_instances> of 'hello'",
                "0 is not allowed: it must be between 1 and 1024"));
    assertThat(e.getMessage())
        .isEqualTo(
            file()
                + ":6: <max_instances> of 'hello': 0 is not allowed: it must be between 1 and"
                + " 1024");
  }

  @Test
  void collectsEveryProblemInOnePassOneLineEach() {
    ManifestException e =
        ManifestFiles.rejected(
            dir,
            """
            <manifest version="1">
              <process>
                <id>a</id>
                <executable>x</executable>
                <route>/a</route>
                <idle_timeout>30</idle_timeout>
                <max_body_size>lots</max_body_size>
              </process>
              <process>
                <id>b</id>
                <route>b</route>
                <concurrency>many</concurrency>
              </process>
            </manifest>
            """);

    assertThat(e.getMessage().lines().toList())
        .containsExactly(
            file()
                + ":6: <idle_timeout> of 'a': '30' has no unit: add one, e.g. 30s (units: ms, s, m,"
                + " h)",
            file()
                + ":7: <max_body_size> of 'a': '"
                + "lots' is not a size: write bytes, optionally"
                + " with k, m or g (binary), e.g. 64m",
            file()
                + ":9: <process> of 'b': has no <executable>: add the program to run, e.g."
                + " <executable>python3</executable>",
            file() + ":11: <route> of 'b': route 'b' must start with '/', e.g. /api/* or /health",
            file() + ":12: <concurrency> of 'b': 'many' is not a whole number");
  }

  @Test
  void unknownElementSuggestsTheClosestName() {
    assertThat(
            problems(
                """
                <manifest version="1">
                  <process>
                    <id>hello</id>
                    <executable>python3</executable>
                    <route>/hello/*</route>
                    <max_instance>2</max_instance>
                    <idle_timout>1m</idle_timout>
                    <colour>blue</colour>
                  </process>
                </manifest>
                """))
        .containsExactly(
            file()
                + ":6: <max_instance> of 'hello': unknown element: did you mean <max_instances>?",
            file() + ":7: <idle_timout> of 'hello': unknown element: did you mean <idle_timeout>?",
            file()
                + ":8: <colour> of 'hello': unknown element; known elements are arg, cache,"
                + " communication_mode, concurrency, debug, env, env_file, event, executable,"
                + " handler, http_listen,"
                + " id, idle_timeout, max_body_size, max_instances, max_requests_per_instance,"
                + " memory, method, min_instances, pipe_name, protocol, queue_size, queue_timeout,"
                + " ready_path, request_timeout, route, shared_memory, spare, start, startup_timeout,"
                + " stop_grace, template, upgrade, watch, working_dir");
  }

  @Test
  void unknownAttributesAreReportedWithSuggestions() {
    assertThat(
            problems(
                """
                <manifest versoin="1">
                  <process id="x">
                    <id>x</id>
                    <executable>cat</executable>
                    <route>/x</route>
                    <env nme="A">1</env>
                  </process>
                </manifest>
                """))
        .containsExactly(
            file() + ":1: <manifest>: unknown attribute versoin: did you mean version?",
            file()
                + ":2: <process> of 'x': unknown attribute id: write it as an element, <id>x</id>",
            file() + ":6: <env> of 'x': unknown attribute nme: did you mean name?");
  }

  @Test
  void unknownRootChildAndMisplacedElements() {
    assertThat(
            problems(
                """
                <manifest version="1">
                  <proces/>
                  <route>/x</route>
                  <process><id>ok</id><executable>cat</executable><route>/ok</route></process>
                </manifest>
                """))
        .containsExactly(
            file() + ":2: <proces>: unknown element in <manifest>: did you mean <process>?",
            file() + ":3: <route>: belongs inside a <process>, not directly in <manifest>");
  }

  @Test
  void functionElementInTheOriginalFormatIsAnErrorNotIgnored() {
    assertThat(
            problems(
                """
                <manifest>
                  <function><id>f</id></function>
                  <process><id>ok</id><executable>cat</executable><route>/ok</route></process>
                </manifest>
                """))
        .containsExactly(
            file()
                + ":2: <function>: is only accepted in version 1 manifests: use <process>, or"
                + " write <manifest version=\"1\">");
  }

  @Test
  void missingRequiredElementsAndEmptyValues() {
    assertThat(
            problems(
                """
                <manifest version="1">
                  <function>
                    <executable>cat</executable>
                  </function>
                  <function>
                    <id>e</id>
                    <executable>  </executable>
                    <route>/e</route>
                    <working_dir/>
                  </function>
                </manifest>
                """))
        .containsExactly(
            file() + ":2: <function>: has no <id>: add one, e.g. <id>hello</id>",
            file()
                + ":2: <function> of the <function> at line 2: has no <route>: add the path it"
                + " serves, e.g. <route>/hello/*</route>",
            file() + ":7: <executable> of 'e': is empty: give a value or remove the element",
            file() + ":9: <working_dir> of 'e': is empty: give a value or remove the element");
  }

  @Test
  void duplicateSingleValuedElementsTextAndNestedElements() {
    assertThat(
            problems(
                """
                <manifest version="1">
                  stray
                  <process>
                    <id>a</id>
                    <id>b</id>
                    <executable>cat<x/></executable>
                    <route>/a</route>
                    oops
                  </process>
                </manifest>
                """))
        .containsExactly(
            file() + ":2: <manifest>: unexpected text 'stray': <manifest> holds only elements",
            file() + ":5: <id> of 'a': given twice (first at line 4): keep one",
            file() + ":6: <executable> of 'a': holds text, not elements: move <x> out of it",
            file()
                + ":8: <process> of 'a': unexpected text 'oops': values go inside elements"
                + " such as <arg>");
  }

  @Test
  void protocolAndCommunicationModeTogetherAreRefused() {
    assertThat(
            problems(
                """
                <manifest version="1">
                  <process>
                    <id>a</id>
                    <executable>cat</executable>
                    <route>/a</route>
                    <communication_mode>http</communication_mode>
                    <protocol>pipe</protocol>
                  </process>
                </manifest>
                """))
        .containsExactly(
            file()
                + ":7: <protocol> of 'a': both <protocol> and"
                + " <communication_mode> are given: use one");
  }

  @Test
  void sharedMemoryTakesAutoOnOrOff() {
    assertThat(
            problems(
                """
                <manifest version="1">
                  <function>
                    <id>a</id>
                    <executable>cat</executable>
                    <route>/a</route>
                    <shared_memory>always</shared_memory>
                  </function>
                </manifest>
                """))
        .singleElement()
        .asString()
        .startsWith(
            file() + ":6: <shared_memory> of 'a': 'always' is not allowed: use auto or off or on");
  }

  @Test
  void badEnumeratedValuesSuggestTheIntendedOne() {
    assertThat(
            problems(
                """
                <manifest version="1">
                  <process>
                    <id>a</id>
                    <executable>cat</executable>
                    <route>/a</route>
                    <protocol>legacy_http</protocol>
                    <start>eagre</start>
                    <http_listen>udp</http_listen>
                  </process>
                  <process>
                    <id>b</id>
                    <executable>cat</executable>
                    <route>/b</route>
                    <communication_mode>grpc</communication_mode>
                  </process>
                </manifest>
                """))
        .containsExactly(
            file()
                + ":6: <protocol> of 'a': 'legacy_http' is not a protocol: use pipe, http,"
                + " legacy-pipe, legacy-http, lambda, cgi, in-process (did you mean legacy-http?)",
            file()
                + ":7: <start> of 'a': 'eagre' is not allowed: use eager or lazy (did you mean"
                + " eager?)",
            file() + ":8: <http_listen> of 'a': 'udp' is not allowed: use tcp or unix",
            file() + ":14: <communication_mode> of 'b': 'grpc' is not allowed: use http or pipe");
  }

  @Test
  void crossFieldRulesPointAtTheElementInvolved() {
    assertThat(
            problems(
                """
                <manifest version="1">
                  <process>
                    <id>a</id>
                    <executable>cat</executable>
                    <route>/a</route>
                    <protocol>http</protocol>
                    <max_instances>2</max_instances>
                    <min_instances>3</min_instances>
                  </process>
                  <process>
                    <id>b</id>
                    <executable>cat</executable>
                    <route>/b</route>
                    <ready_path>/ready</ready_path>
                  </process>
                  <process>
                    <id>c</id>
                    <executable>cat</executable>
                    <route>/c</route>
                    <protocol>legacy-http</protocol>
                    <http_listen>unix</http_listen>
                  </process>
                </manifest>
                """))
        .containsExactly(
            file() + ":8: <min_instances> of 'a': min_instances 3 is more than max_instances 2",
            file()
                + ":14: <ready_path> of 'b': ready_path only applies to http and legacy-http"
                + " functions, not pipe",
            file()
                + ":21: <http_listen> of 'c': http_listen unix only applies to protocol http,"
                + " not legacy-http");
  }

  @Test
  void moreSparesThanMaxInstancesPointsAtSpare() {
    assertThat(
            problems(
                """
                <manifest version="1">
                  <function>
                    <id>a</id>
                    <executable>cat</executable>
                    <route>/a</route>
                    <max_instances>2</max_instances>
                    <spare>3</spare>
                  </function>
                </manifest>
                """))
        .containsExactly(
            file()
                + ":7: <spare> of 'a': spare 3 is more than max_instances 2 (spare instances"
                + " count against max_instances)");
  }

  @Test
  void invalidIdStillChecksTheRestOfTheFunction() {
    assertThat(
            problems(
                """
                <manifest version="1">
                  <process>
                    <id>no spaces</id>
                    <executable>cat</executable>
                    <route>/a</route>
                    <queue_size>-1</queue_size>
                  </process>
                </manifest>
                """))
        .containsExactly(
            file()
                + ":3: <id>: invalid function id 'no spaces': use 1-64 letters, digits, '.', '_'"
                + " or '-', starting with a letter or digit",
            file()
                + ":6: <queue_size> of 'no spaces': -1 is not allowed: it must be between 0 and"
                + " 1000000");
  }

  @Test
  void duplicateIdsAndRoutesNameBothLines() {
    assertThat(
            problems(
                """
                <manifest version="1">
                  <process>
                    <id>a</id>
                    <executable>cat</executable>
                    <route>/api/*</route>
                  </process>
                  <process>
                    <id>a</id>
                    <executable>cat</executable>
                    <route>/other</route>
                    <route>/api/*</route>
                  </process>
                </manifest>
                """))
        .containsExactly(
            file()
                + ":8: <id>: function id 'a' is used twice, at lines 3 and 8: ids must be unique",
            file()
                + ":11: <route> of 'a': route '/api/*' is declared twice: by 'a' at line 5 and by"
                + " 'a' at line 11: each route belongs to one function");
  }

  @Test
  void unsupportedVersionNamesTheSupportedOnes() {
    assertThat(
            problems(
                """
                <manifest version="2">
                  <process><id>a</id><executable>cat</executable><route>/a</route></process>
                </manifest>
                """))
        .containsExactly(
            file()
                + ":1: <manifest>: version '2' is not supported: supported"
                + " versions are 1 (leave version out for the original local_lambdas format)");
  }

  @Test
  void emptyManifestAndWrongRoot() {
    assertThat(problems("<manifest version=\"1\">\n</manifest>\n"))
        .containsExactly(
            file()
                + ":1: <manifest>: declares no functions: add a <process> with <id>, <executable>"
                + " and <route>");
    assertThat(problems("<manifests/>\n"))
        .containsExactly(file() + ":1: <manifests>: the root element must be <manifest>");
  }

  @Test
  void malformedXmlGivesTheLine() {
    assertThat(
            problems(
                """
                <manifest>
                  <process>
                    <id>a</id>
                    <executable>cat</exectable>
                  </process>
                </manifest>
                """))
        .singleElement()
        .asString()
        .startsWith(file() + ":4: not well-formed XML: ")
        .contains("must be terminated by the matching end-tag \"</executable>\"");
  }

  @Test
  void doctypeIsRefusedAndNoExternalEntityIsRead() throws Exception {
    Path secret = Files.writeString(dir.resolve("secret.txt"), "TOP-SECRET");
    List<String> problems =
        problems(
            """
            <?xml version="1.0"?>
            <!DOCTYPE manifest [
              <!ENTITY xxe SYSTEM "%s">
            ]>
            <manifest>
              <process><id>a</id><executable>&xxe;</executable><route>/a</route></process>
            </manifest>
            """
                .formatted(secret.toUri()));

    assertThat(problems)
        .singleElement()
        .asString()
        .startsWith(file() + ":2: <!DOCTYPE> is not allowed in a manifest")
        .doesNotContain("TOP-SECRET");
  }

  @Test
  void undeclaredEntityIsAnError() {
    assertThat(
            problems(
                """
                <manifest>
                  <process><id>a</id><executable>&xxe;</executable><route>/a</route></process>
                </manifest>
                """))
        .singleElement()
        .asString()
        .startsWith(file() + ":2: not well-formed XML: ")
        .contains("xxe");
  }

  @Test
  void controlByteInADoctypeIsMalformedXmlNotACrash() {
    // The JDK parser throws MissingResourceException here (found by ManifestReaderFuzzTest).
    assertThat(problems("<!DOCTYPE m [<!ENTITY x SYSTEM/manifes\u0000\u0000t>"))
        .singleElement()
        .asString()
        .startsWith(file() + ":1: not well-formed XML: ");
  }

  @Test
  void missingFileIsAProblemToo() {
    Path missing = dir.resolve("nope.xml");
    ManifestException e =
        org.assertj.core.api.Assertions.catchThrowableOfType(
            ManifestException.class, () -> ManifestReader.read(missing));

    assertThat(e.getMessage()).isEqualTo(missing + ": no such file (looked for " + missing + ")");
  }
}
