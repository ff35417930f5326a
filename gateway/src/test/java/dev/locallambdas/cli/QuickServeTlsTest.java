package dev.locallambdas.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The launcher's fast path leaves every TLS option to picocli. */
class QuickServeTlsTest {
  @Test
  void tlsOptionsGoToPicocli() {
    assertThat(QuickServe.parse(new String[] {"serve", "m.xml", "--tls-self-signed"})).isNull();
    assertThat(
            QuickServe.parse(new String[] {"serve", "--tls-cert", "c.pem", "--tls-key", "k.pem"}))
        .isNull();
    assertThat(QuickServe.parse(new String[] {"serve", "--tls-cert=c.pem"})).isNull();
    assertThat(QuickServe.parse(new String[] {"serve", "m.xml", "--bind", "127.0.0.1:1"}))
        .isNotNull();
  }
}
