package dev.locallambdas.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every way the TLS files can be wrong is said in one sentence naming the file and the fix. */
class ServerTlsTest {
  @TempDir Path temp;

  @Test
  void missingFilesAreNamed() {
    assertThatThrownBy(() -> ServerTls.fromPem(temp.resolve("c.pem"), temp.resolve("k.pem")))
        .isInstanceOf(ServerTls.BadTlsFiles.class)
        .hasMessageContaining("--tls-cert " + temp.resolve("c.pem") + ": no such file");
  }

  @Test
  void aFileWithoutACertificateIsRefused() throws Exception {
    Path cert = Files.writeString(temp.resolve("c.pem"), "not a certificate\n");
    assertThatThrownBy(() -> ServerTls.fromPem(cert, cert))
        .hasMessageContaining("holds no PEM certificate");
  }

  @Test
  void keysTheJdkCannotReadGetTheConversionCommand() throws Exception {
    Path dir = temp.resolve("a");
    LocalCertificate.ensure(dir);
    Path cert = dir.resolve("localhost-cert.pem");
    Path rsa =
        Files.writeString(
            temp.resolve("rsa.pem"),
            "-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY-----\n");
    assertThatThrownBy(() -> ServerTls.fromPem(cert, rsa))
        .hasMessageContaining("'RSA PRIVATE KEY'")
        .hasMessageContaining("openssl pkcs8 -topk8 -nocrypt");
    Path encrypted =
        Files.writeString(
            temp.resolve("enc.pem"),
            "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIB\n-----END ENCRYPTED PRIVATE KEY-----\n");
    assertThatThrownBy(() -> ServerTls.fromPem(cert, encrypted)).hasMessageContaining("encrypted");
  }

  @Test
  void aKeyOfAnotherCertificateIsRefused() throws Exception {
    LocalCertificate.ensure(temp.resolve("a"));
    LocalCertificate.ensure(temp.resolve("b"));
    assertThat(
            ServerTls.fromPem(
                    temp.resolve("a/localhost-cert.pem"), temp.resolve("a/localhost-key.pem"))
                .certificate()
                .getSubjectX500Principal()
                .getName())
        .isEqualTo("CN=localhost");
    assertThatThrownBy(
            () ->
                ServerTls.fromPem(
                    temp.resolve("a/localhost-cert.pem"), temp.resolve("b/localhost-key.pem")))
        .hasMessageContaining("does not belong to the certificate");
  }
}
