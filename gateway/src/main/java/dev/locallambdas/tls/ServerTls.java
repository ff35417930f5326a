package dev.locallambdas.tls;

import io.netty.handler.codec.http2.Http2SecurityUtil;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.SupportedCipherSuiteFilter;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.logging.Logger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SSLException;

/**
 * The front door's TLS settings (docs/tls.md): a certificate chain and its private key, both PEM,
 * served with TLS 1.3 and 1.2 only, by Netty's native TLS provider (BoringSSL) or, when its library
 * cannot load, the JDK's (ADR 0017, "TLS provider"), and ALPN offering h2 then http/1.1. Everything
 * that can be wrong with the files is found here, at start-up, and said in one sentence naming the
 * file and the fix: a missing or unreadable file, no certificate, a key in a format the JDK cannot
 * read, a key that does not belong to the certificate.
 */
public final class ServerTls {
  /** The protocol versions accepted; anything older is refused in the handshake. */
  public static final List<String> PROTOCOLS = List.of("TLSv1.3", "TLSv1.2");

  private static final Pattern PEM_KEY =
      Pattern.compile(
          "-----BEGIN ([A-Z ]*)PRIVATE KEY-----([A-Za-z0-9+/=\\s]*)-----END \\1PRIVATE KEY-----");

  /**
   * {@code -Dlocallambdas.tls.provider=jdk} makes the JDK's provider serve even where the native
   * one loads ({@code openssl}, the default, prefers the native one).
   */
  public static final String PROVIDER_PROPERTY = "locallambdas.tls.provider";

  private static final Logger LOG = Logger.getLogger(ServerTls.class.getName());

  private final SslContext context;
  private final X509Certificate certificate;
  private final String source;
  private final SslProvider provider;

  private ServerTls(
      SslContext context, X509Certificate certificate, String source, SslProvider provider) {
    this.context = context;
    this.certificate = certificate;
    this.source = source;
    this.provider = provider;
  }

  /** Thrown with a message fit for the command line: what is wrong and how to fix it. */
  public static final class BadTlsFiles extends Exception {
    private static final long serialVersionUID = 1L;

    public BadTlsFiles(String message) {
      super(message);
    }

    BadTlsFiles(String message, Throwable cause) {
      super(message, cause);
    }
  }

  /** Reads {@code certFile} (the server certificate first, then any intermediates) and its key. */
  public static ServerTls fromPem(Path certFile, Path keyFile) throws BadTlsFiles {
    return fromPem(certFile, keyFile, System.getProperty(PROVIDER_PROPERTY, ""));
  }

  /**
   * As {@link #fromPem(Path, Path)}, with the provider asked for ({@code jdk}, {@code openssl}).
   */
  static ServerTls fromPem(Path certFile, Path keyFile, String requested) throws BadTlsFiles {
    List<X509Certificate> chain = certificates(certFile);
    PrivateKey key = privateKey(keyFile);
    if (!matches(key, chain.get(0))) {
      throw new BadTlsFiles(
          "the key in "
              + keyFile
              + " does not belong to the certificate in "
              + certFile
              + " (its public key differs); pass the key the certificate was issued for");
    }
    SslProvider provider = provider(requested, OpenSsl::isAvailable);
    if (provider == SslProvider.OPENSSL) {
      try {
        SslContext ctx = context(key, chain, SslProvider.OPENSSL);
        LOG.fine("TLS: Netty's native provider (BoringSSL) serves");
        return new ServerTls(ctx, chain.get(0), certFile.toString(), SslProvider.OPENSSL);
      } catch (SSLException | RuntimeException e) {
        LOG.info(
            () ->
                "TLS: Netty's native provider cannot use "
                    + certFile
                    + " ("
                    + e
                    + "); the JDK's provider serves instead");
      }
    }
    try {
      SslContext ctx = context(key, chain, SslProvider.JDK);
      LOG.fine("TLS: the JDK's provider serves");
      return new ServerTls(ctx, chain.get(0), certFile.toString(), SslProvider.JDK);
    } catch (SSLException | RuntimeException e) {
      throw new BadTlsFiles(
          "cannot use the certificate " + certFile + " with the key " + keyFile + ": " + e, e);
    }
  }

  /**
   * Which provider serves: the JDK's when {@code requested} is {@code jdk}, else Netty's native one
   * when its library loads, else the JDK's (said once at INFO). Asked only when TLS is on, so a
   * cleartext gateway never loads the native library.
   */
  static SslProvider provider(String requested, BooleanSupplier nativeLoads) throws BadTlsFiles {
    switch (requested) {
      case "jdk":
        return SslProvider.JDK;
      case "", "openssl":
        break;
      default:
        throw new BadTlsFiles(
            "-D"
                + PROVIDER_PROPERTY
                + "="
                + requested
                + " is not a TLS provider: use jdk or openssl");
    }
    if (nativeLoads.getAsBoolean()) {
      return SslProvider.OPENSSL;
    }
    LOG.info(
        () ->
            "TLS: Netty's native provider cannot load ("
                + OpenSsl.unavailabilityCause()
                + "); the JDK's provider serves");
    return SslProvider.JDK;
  }

  /**
   * TLS 1.3 and 1.2, HTTP/2's cipher suites, ALPN h2 then http/1.1. NO_ADVERTISE + ACCEPT are the
   * only ALPN behaviours the native provider supports; the JDK's does the same with them.
   */
  private static SslContext context(
      PrivateKey key, List<X509Certificate> chain, SslProvider provider) throws SSLException {
    return SslContextBuilder.forServer(key, chain.toArray(X509Certificate[]::new))
        .sslProvider(provider)
        .protocols(PROTOCOLS)
        .ciphers(Http2SecurityUtil.CIPHERS, SupportedCipherSuiteFilter.INSTANCE)
        .applicationProtocolConfig(
            new ApplicationProtocolConfig(
                ApplicationProtocolConfig.Protocol.ALPN,
                ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
                ApplicationProtocolNames.HTTP_2,
                ApplicationProtocolNames.HTTP_1_1))
        .build();
  }

  /** Netty's context for the front door's TLS handler. */
  public SslContext context() {
    return context;
  }

  /** The provider serving: {@code OPENSSL} (Netty's native BoringSSL) or {@code JDK}. */
  public SslProvider provider() {
    return provider;
  }

  /** The server certificate (the first of the chain). */
  public X509Certificate certificate() {
    return certificate;
  }

  /** The certificate file, for messages. */
  public String source() {
    return source;
  }

  static List<X509Certificate> certificates(Path file) throws BadTlsFiles {
    byte[] bytes = read(file, "--tls-cert");
    try {
      List<X509Certificate> chain =
          CertificateFactory.getInstance("X.509")
              .generateCertificates(new ByteArrayInputStream(bytes))
              .stream()
              .map(X509Certificate.class::cast)
              .toList();
      if (chain.isEmpty()) {
        throw new CertificateException("no certificate");
      }
      return chain;
    } catch (CertificateException e) {
      throw new BadTlsFiles(
          file
              + " holds no PEM certificate (-----BEGIN CERTIFICATE-----): pass the server"
              + " certificate, then any intermediate ones, as --tls-cert",
          e);
    }
  }

  static PrivateKey privateKey(Path file) throws BadTlsFiles {
    String text = new String(read(file, "--tls-key"), StandardCharsets.US_ASCII);
    Matcher m = PEM_KEY.matcher(text);
    if (!m.find()) {
      throw new BadTlsFiles(
          file
              + " holds no PEM private key (-----BEGIN PRIVATE KEY-----): pass the certificate's"
              + " key as --tls-key");
    }
    String kind = m.group(1).strip();
    if (!kind.isEmpty()) {
      String hint =
          kind.equals("ENCRYPTED")
              ? "it is encrypted; the gateway takes an unencrypted key (keep the file 0600):"
                  + " openssl pkcs8 -topk8 -nocrypt -in "
                  + file
                  + " -out key.pem"
              : "convert it to PKCS#8: openssl pkcs8 -topk8 -nocrypt -in " + file + " -out key.pem";
      throw new BadTlsFiles(
          file + " holds a '" + kind + " PRIVATE KEY', which the JDK cannot read; " + hint);
    }
    byte[] der;
    try {
      der = Base64.getMimeDecoder().decode(m.group(2));
    } catch (IllegalArgumentException e) {
      throw new BadTlsFiles(file + " holds a damaged PEM private key (bad base64)", e);
    }
    for (String algorithm : List.of("RSA", "EC", "Ed25519", "Ed448", "RSASSA-PSS")) {
      try {
        return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(der));
      } catch (GeneralSecurityException e) {
        // not this algorithm: try the next one
      }
    }
    throw new BadTlsFiles(
        file + " holds a private key of a kind the JDK cannot read (RSA, EC and EdDSA are)");
  }

  /** True when {@code key} signs what the certificate's public key verifies. */
  static boolean matches(PrivateKey key, X509Certificate cert) throws BadTlsFiles {
    String algorithm =
        switch (key.getAlgorithm()) {
          case "RSA" -> "SHA256withRSA";
          case "EC" -> "SHA256withECDSA";
          case "Ed25519", "Ed448", "EdDSA" -> key.getAlgorithm();
          default -> null;
        };
    if (algorithm == null) {
      return true; // nothing to test it with: the handshake will tell
    }
    if (!cert.getPublicKey().getAlgorithm().equals(key.getAlgorithm())
        && !(algorithm.startsWith("Ed") && cert.getPublicKey().getAlgorithm().startsWith("Ed"))) {
      return false;
    }
    try {
      byte[] probe = "local-lambdas key check".getBytes(StandardCharsets.US_ASCII);
      Signature s = Signature.getInstance(algorithm);
      s.initSign(key);
      s.update(probe);
      byte[] signature = s.sign();
      Signature v = Signature.getInstance(algorithm);
      v.initVerify(cert.getPublicKey());
      v.update(probe);
      return v.verify(signature);
    } catch (GeneralSecurityException e) {
      return false;
    }
  }

  private static byte[] read(Path file, String option) throws BadTlsFiles {
    try {
      return Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      throw new BadTlsFiles(option + " " + file + ": no such file", e);
    } catch (AccessDeniedException e) {
      throw new BadTlsFiles(
          option + " " + file + ": permission denied; the gateway's user must be able to read it",
          e);
    } catch (IOException e) {
      throw new BadTlsFiles(option + " " + file + ": cannot be read (" + e.getMessage() + ")", e);
    }
  }
}
