package dev.locallambdas.manifest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class PythonCommandTest {
  @Test
  void interpreterOptionsComeBeforeTheScript() {
    PythonCommand c = PythonCommand.parse(List.of("-u", "-X", "dev", "-Wignore", "app.py", "-v"));
    assertThat(c.options()).containsExactly("-u", "-X", "dev", "-Wignore");
    assertThat(c.program()).containsExactly("app.py", "-v");
  }

  @Test
  void aModuleIsAProgramToo() {
    PythonCommand c = PythonCommand.parse(List.of("-B", "-m", "pkg.app", "--port", "1"));
    assertThat(c.options()).containsExactly("-B");
    assertThat(c.program()).containsExactly("-m", "pkg.app", "--port", "1");
  }

  @Test
  void codeOnTheCommandLineOrNoProgramCannotBeForked() {
    assertThatThrownBy(() -> PythonCommand.parse(List.of("-c", "print(1)")))
        .hasMessageContaining("-c");
    assertThatThrownBy(() -> PythonCommand.parse(List.of("-u")))
        .hasMessageContaining("a script or -m MODULE");
    assertThatThrownBy(() -> PythonCommand.parse(List.of("-"))).hasMessageContaining("standard");
  }

  @Test
  void pythonInterpretersAreRecognisedByName() {
    assertThat(PythonCommand.isPython("python3")).isTrue();
    assertThat(PythonCommand.isPython("/usr/bin/python3.12")).isTrue();
    assertThat(PythonCommand.isPython(".venv/bin/python")).isTrue();
    assertThat(PythonCommand.isPython("pypy3")).isTrue();
    assertThat(PythonCommand.isPython("node")).isFalse();
    assertThat(PythonCommand.isPython("python-wrapper.sh")).isFalse();
  }
}
