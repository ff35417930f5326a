package dev.locallambdas.manifest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.List;
import javax.xml.XMLConstants;
import javax.xml.transform.stream.StreamSource;
import javax.xml.validation.Schema;
import javax.xml.validation.SchemaFactory;
import javax.xml.validation.Validator;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.xml.sax.SAXException;

/** docs/manifest.xsd and the reader agree on what a valid manifest is. */
class ManifestSchemaTest {
  private static Schema schema;

  @TempDir Path dir;

  @BeforeAll
  static void loadSchema() throws SAXException {
    SchemaFactory f = SchemaFactory.newDefaultInstance();
    f.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
    f.setProperty(XMLConstants.ACCESS_EXTERNAL_DTD, "");
    f.setProperty(XMLConstants.ACCESS_EXTERNAL_SCHEMA, "");
    schema = f.newSchema(ManifestFiles.schema().toFile());
  }

  static List<Path> validManifests() {
    return ManifestFiles.validManifests();
  }

  private static void validate(Path file) throws Exception {
    Validator v = schema.newValidator();
    v.setProperty(XMLConstants.ACCESS_EXTERNAL_DTD, "");
    v.setProperty(XMLConstants.ACCESS_EXTERNAL_SCHEMA, "");
    v.validate(new StreamSource(file.toFile()));
  }

  @Test
  void thereAreValidManifestsToCheck() {
    assertThat(validManifests()).hasSizeGreaterThanOrEqualTo(5);
  }

  @ParameterizedTest
  @MethodSource("validManifests")
  void validManifestConformsToTheSchema(Path file) {
    assertThatCode(() -> validate(file)).doesNotThrowAnyException();
  }

  @ParameterizedTest
  @MethodSource("validManifests")
  void validManifestIsAcceptedByTheReader(Path file) throws Exception {
    assertThat(ManifestReader.read(file).functions()).isNotEmpty();
  }

  /**
   * Where the reader only warns, for the original format's sake (an empty manifest, an element the
   * original ignored), the schema is strict: an editor should point at them.
   */
  @Test
  void schemaRefusesWhatTheReaderOnlyWarnsAbout() throws Exception {
    List<String> warned =
        List.of(
            "<manifest/>",
            "<manifest><description>x</description></manifest>",
            "<manifest><process><id>a</id><executable>sh</executable><route>/a</route>"
                + "<description>x</description></process></manifest>");
    for (String xml : warned) {
      Path file = ManifestFiles.write(dir, xml);
      assertThat(ManifestReader.check(file, dir, "/usr/bin:/bin").valid()).as(xml).isTrue();
      assertThatThrownBy(() -> validate(file)).as(xml).isInstanceOf(SAXException.class);
    }
  }

  /** A space between a number and its unit: accepted by both, like every other spelling. */
  @Test
  void schemaAndReaderAgreeOnDurationAndSizeSpellings() throws Exception {
    for (String value : List.of("10s", "10 s", "1.5 m", "250 MS", "64 MB", "64mib", "5", "1 0s")) {
      boolean isDuration = !value.toLowerCase(java.util.Locale.ROOT).contains("b");
      String element = isDuration ? "request_timeout" : "max_body_size";
      Path file =
          ManifestFiles.write(
              dir,
              "<manifest version=\"1\"><function><id>a</id><executable>sh</executable>"
                  + "<route>/a</route><"
                  + element
                  + ">"
                  + value
                  + "</"
                  + element
                  + "></function></manifest>");
      boolean reader = ManifestReader.check(file, dir, "/usr/bin:/bin").valid();
      boolean schemaAccepts;
      try {
        validate(file);
        schemaAccepts = true;
      } catch (SAXException e) {
        schemaAccepts = false;
      }
      assertThat(schemaAccepts)
          .as("schema and reader agree on <%s>%s", element, value)
          .isEqualTo(reader);
    }
  }

  @Test
  void schemaRejectsWhatTheReaderRejects() {
    List<String> bad =
        List.of(
            "<manifest version=\"2\"><process><id>a</id><route>/a</route></process></manifest>",
            "<manifest><process><id>a</id><max_instance>1</max_instance></process></manifest>",
            "<manifest><process><id>a</id><idle_timeout>30</idle_timeout></process></manifest>",
            "<manifest><process><id>a</id><max_body_size>1.5m</max_body_size></process></manifest>",
            "<manifest><process><id>a</id><route>api</route></process></manifest>",
            "<manifest><process><id>a</id><route>/a*</route></process></manifest>",
            "<manifest><process><id>a</id><max_instances>0</max_instances></process></manifest>",
            "<manifest><process><id>a</id><protocol>grpc</protocol></process></manifest>",
            "<manifest><process><id>a</id><env>x</env></process></manifest>",
            "<manifest><process><id>a</id><cache><ttl>30</ttl></cache></process></manifest>",
            "<manifest><process><id>a</id><cache><enabled>yes</enabled></cache></process></manifest>",
            "<manifest><process><id>a</id><cache><size>1m</size></cache></process></manifest>",
            "<manifest><process><id>a</id></process><process><id>a</id></process></manifest>",
            "<manifest><process><id>a</id><route>/x</route></process>"
                + "<process><id>b</id><route>/x</route></process></manifest>",
            "<manifest version=\"1\"/>",
            "<manifest><process><id>a</id><route>/a//b</route></process></manifest>",
            "<manifest><process><id>a</id><route>/a/../b/*</route></process></manifest>",
            "<manifest><process><id>a</id><route>/./</route></process></manifest>");
    for (String xml : bad) {
      Path file = ManifestFiles.write(dir, xml);
      assertThatThrownBy(() -> validate(file)).as(xml).isInstanceOf(SAXException.class);
    }
  }
}
