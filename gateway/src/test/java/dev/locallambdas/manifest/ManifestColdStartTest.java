package dev.locallambdas.manifest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The cold-start elements of a function: {@code <spare>} and {@code <template>}. */
class ManifestColdStartTest {
  @TempDir Path dir;

  private static String v1(String executable, String more) {
    return "<manifest version=\"1\"><function><id>a</id><executable>"
        + executable
        + "</executable><arg>app.py</arg><route>/a/*</route>"
        + more
        + "</function></manifest>";
  }

  private FunctionSpec read(String xml) throws ManifestException {
    return ManifestReader.read(ManifestFiles.write(dir, xml)).function("a");
  }

  @Test
  void sparesDefaultToNone() throws Exception {
    assertThat(read(v1("python3", "")).spare()).isZero();
    assertThat(read(v1("python3", "<spare>2</spare>")).spare()).isEqualTo(2);
  }

  @Test
  void anEmptyTemplatePreloadsOnlyTheSdk() throws Exception {
    assertThat(read(v1("python3", "")).templatePreload()).isNull();
    assertThat(read(v1("python3", "<template/>")).templatePreload()).isEmpty();
    assertThat(
            read(v1(
                    "/usr/bin/python3.11",
                    "<template><preload>json</preload><preload> email.parser </preload></template>"))
                .templatePreload())
        .containsExactly("json", "email.parser");
  }

  @Test
  void aTemplateNeedsAPythonPipeFunctionWithAProgramFile() {
    assertThatThrownBy(() -> read(v1("node", "<template/>")))
        .hasMessageContaining("<template> of 'a'")
        .hasMessageContaining("only works for Python functions");
    assertThatThrownBy(() -> read(v1("python3", "<protocol>http</protocol><template/>")))
        .hasMessageContaining("only applies to protocol pipe");
    assertThatThrownBy(() -> read(v1("python3", "<template><preload>1x</preload></template>")))
        .hasMessageContaining("is not a Python module name");
    assertThatThrownBy(() -> read(v1("python3", "<template><module>x</module></template>")))
        .hasMessageContaining("holds only <preload>");
  }
}
