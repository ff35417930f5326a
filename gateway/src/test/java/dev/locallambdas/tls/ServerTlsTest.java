package dev.locallambdas.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ReferenceCountedOpenSslEngine;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every way the TLS files can be wrong is said in one sentence naming the file and the fix. */
class ServerTlsTest {
  @TempDir Path temp;

  /** One local certificate for the tests that need any (keytool takes seconds per certificate). */
  @TempDir static Path shared;

  private static Path certificateDir() throws Exception {
    Path dir = shared.resolve("a");
    LocalCertificate.ensure(dir); // made by the first caller, reused by the others
    return dir;
  }

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
    Path cert = certificateDir().resolve("localhost-cert.pem");
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
    Path a = certificateDir();
    LocalCertificate.ensure(temp.resolve("b"));
    assertThat(
            ServerTls.fromPem(a.resolve("localhost-cert.pem"), a.resolve("localhost-key.pem"))
                .certificate()
                .getSubjectX500Principal()
                .getName())
        .isEqualTo("CN=localhost");
    assertThatThrownBy(
            () ->
                ServerTls.fromPem(
                    a.resolve("localhost-cert.pem"), temp.resolve("b/localhost-key.pem")))
        .hasMessageContaining("does not belong to the certificate");
  }

  @Test
  void theNativeProviderServesByDefaultWithTls13Or12AndAlpn() throws Exception {
    ServerTls tls = localCertificate("");
    assertThat(tls.provider()).isEqualTo(SslProvider.OPENSSL);
    Handshake h2 = handshake(tls, "TLSv1.3", "h2", "http/1.1");
    assertThat(h2.nativeEngine()).isTrue();
    assertThat(h2.alpn()).isEqualTo("h2");
    assertThat(h2.version()).isEqualTo("TLSv1.3");
    assertThat(handshake(tls, "TLSv1.2", "http/1.1").alpn()).isEqualTo("http/1.1");
    assertThat(handshake(tls, "TLSv1.2", "h2").version()).isEqualTo("TLSv1.2");
  }

  @Test
  void theJdkProviderServesWhenAskedForWithTheSameNegotiation() throws Exception {
    ServerTls tls = localCertificate("jdk");
    assertThat(tls.provider()).isEqualTo(SslProvider.JDK);
    Handshake h2 = handshake(tls, "TLSv1.3", "h2", "http/1.1");
    assertThat(h2.nativeEngine()).isFalse();
    assertThat(h2.alpn()).isEqualTo("h2");
    assertThat(h2.version()).isEqualTo("TLSv1.3");
    assertThat(handshake(tls, "TLSv1.2", "http/1.1").alpn()).isEqualTo("http/1.1");
  }

  @Test
  void theJdkProviderServesWhenTheNativeLibraryCannotLoad() throws Exception {
    assertThat(ServerTls.provider("", () -> false)).isEqualTo(SslProvider.JDK);
    assertThat(ServerTls.provider("openssl", () -> false)).isEqualTo(SslProvider.JDK);
    assertThat(ServerTls.provider("", () -> true)).isEqualTo(SslProvider.OPENSSL);
    assertThat(ServerTls.provider("jdk", () -> true)).isEqualTo(SslProvider.JDK);
    assertThatThrownBy(() -> ServerTls.provider("boring", () -> true))
        .hasMessageContaining("-Dlocallambdas.tls.provider=boring is not a TLS provider");
  }

  private ServerTls localCertificate(String provider) throws Exception {
    Path dir = certificateDir();
    return ServerTls.fromPem(
        dir.resolve("localhost-cert.pem"), dir.resolve("localhost-key.pem"), provider);
  }

  /** What the server side of a handshake agreed, read before its engine is released. */
  private record Handshake(boolean nativeEngine, String version, String alpn) {}

  /** A completed handshake of a JDK client offering {@code alpn} with the gateway's context. */
  private static Handshake handshake(ServerTls tls, String version, String... alpn)
      throws Exception {
    SslContext client =
        SslContextBuilder.forClient()
            .sslProvider(SslProvider.JDK)
            .trustManager(InsecureTrustManagerFactory.INSTANCE)
            .protocols(version)
            .applicationProtocolConfig(
                new ApplicationProtocolConfig(
                    ApplicationProtocolConfig.Protocol.ALPN,
                    ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                    ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
                    alpn))
            .build();
    SslHandler serverSsl = tls.context().newHandler(ByteBufAllocator.DEFAULT);
    EmbeddedChannel server = new EmbeddedChannel(serverSsl);
    EmbeddedChannel clientSide =
        new EmbeddedChannel(client.newHandler(ByteBufAllocator.DEFAULT, "localhost", 443));
    try {
      for (int i = 0; i < 20 && !serverSsl.handshakeFuture().isDone(); i++) {
        pass(clientSide, server);
        pass(server, clientSide);
      }
      assertThat(serverSsl.handshakeFuture().isSuccess()).isTrue();
      return new Handshake(
          serverSsl.engine() instanceof ReferenceCountedOpenSslEngine,
          serverSsl.engine().getSession().getProtocol(),
          serverSsl.applicationProtocol());
    } finally {
      clientSide.finishAndReleaseAll();
      server.finishAndReleaseAll();
    }
  }

  private static void pass(EmbeddedChannel from, EmbeddedChannel to) {
    for (ByteBuf b = from.readOutbound(); b != null; b = from.readOutbound()) {
      to.writeInbound(b);
    }
  }
}
