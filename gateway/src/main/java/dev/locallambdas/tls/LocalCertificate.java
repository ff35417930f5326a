package dev.locallambdas.tls;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * {@code serve --tls-self-signed}: a certificate for localhost, 127.0.0.1 and ::1, signed by a
 * development CA of its own, created once under the user's data directory and reused while it is
 * valid for 30 more days. Made with the JDK's {@code keytool} (always next to the java that runs
 * the gateway; ADR 0017): no certificate library in the gateway. The CA's private key is deleted as
 * soon as it signed the certificate, so trusting the CA trusts this one certificate and nothing
 * anyone could sign later.
 */
public final class LocalCertificate {
  static final String CA = "ca.pem";
  static final String CERT = "localhost-cert.pem";
  static final String KEY = "localhost-key.pem";
  private static final Duration RENEW_BEFORE = Duration.ofDays(30);
  private static final int VALIDITY_DAYS = 825; // the longest a browser (Apple's) accepts
  private static final Duration KEYTOOL_TIMEOUT = Duration.ofSeconds(60);

  private LocalCertificate() {}

  /** The directory: $XDG_DATA_HOME/local-lambdas/tls, else ~/.local/share/local-lambdas/tls. */
  public static Path directory(Map<String, String> env) {
    String xdg = env.get("XDG_DATA_HOME");
    Path base =
        xdg != null && !xdg.isBlank() && Path.of(xdg).isAbsolute()
            ? Path.of(xdg)
            : Path.of(System.getProperty("user.home"), ".local", "share");
    return base.resolve("local-lambdas").resolve("tls");
  }

  /** The certificate and key in {@code dir}, created first if missing or expiring. */
  public static ServerTls ensure(Path dir) throws ServerTls.BadTlsFiles {
    Path cert = dir.resolve(CERT);
    Path key = dir.resolve(KEY);
    if (!usable(cert)) {
      try {
        create(dir);
      } catch (IOException e) {
        throw new ServerTls.BadTlsFiles(
            "cannot create a local certificate in " + dir + ": " + e.getMessage(), e);
      }
    }
    return ServerTls.fromPem(cert, key);
  }

  /** How to make clients trust the CA in {@code dir}, for the console. */
  public static String howToTrust(Path dir) {
    Path ca = dir.resolve(CA);
    return String.join(
        "\n",
        "TLS: a local certificate for localhost, 127.0.0.1 and ::1, signed by the CA " + ca,
        "  curl:     curl --cacert " + ca + " https://localhost:PORT/...",
        "  Debian/Ubuntu: sudo cp "
            + ca
            + " /usr/local/share/ca-certificates/local-lambdas.crt"
            + " && sudo update-ca-certificates",
        "  Fedora/RHEL:   sudo cp "
            + ca
            + " /etc/pki/ca-trust/source/anchors/local-lambdas.pem"
            + " && sudo update-ca-trust",
        "  Browsers: import "
            + ca
            + " as an authority (Firefox: Settings > Certificates; Chrome"
            + " on Linux: certutil -d sql:$HOME/.pki/nssdb -A -t C,, -n local-lambdas -i "
            + ca
            + ")");
  }

  private static boolean usable(Path cert) {
    if (!Files.isRegularFile(cert)) {
      return false;
    }
    try {
      X509Certificate c = ServerTls.certificates(cert).get(0);
      return c.getNotAfter().toInstant().isAfter(Instant.now().plus(RENEW_BEFORE));
    } catch (ServerTls.BadTlsFiles e) {
      return false;
    }
  }

  private static void create(Path dir) throws IOException, ServerTls.BadTlsFiles {
    Files.createDirectories(dir);
    setMode(dir, "rwx------");
    Path work = Files.createTempDirectory(dir, "new-");
    try {
      String password = HexFormat.of().formatHex(new SecureRandom().generateSeed(16));
      Path caStore = work.resolve("ca.p12");
      Path leafStore = work.resolve("leaf.p12");
      Path csr = work.resolve("leaf.csr");
      Path leafPem = work.resolve("leaf.pem");
      keytool(
          password,
          "-genkeypair",
          "-keystore",
          caStore.toString(),
          "-storetype",
          "PKCS12",
          "-alias",
          "ca",
          "-keyalg",
          "EC",
          "-groupname",
          "secp256r1",
          "-dname",
          "CN=local-lambdas development CA " + Instant.now().getEpochSecond(),
          "-ext",
          "bc:c=ca:true,pathlen:0",
          "-ext",
          "ku:c=keyCertSign,cRLSign",
          "-validity",
          String.valueOf(VALIDITY_DAYS + 1));
      keytool(
          password,
          "-genkeypair",
          "-keystore",
          leafStore.toString(),
          "-storetype",
          "PKCS12",
          "-alias",
          "localhost",
          "-keyalg",
          "EC",
          "-groupname",
          "secp256r1",
          "-dname",
          "CN=localhost",
          "-validity",
          String.valueOf(VALIDITY_DAYS));
      keytool(
          password,
          "-certreq",
          "-keystore",
          leafStore.toString(),
          "-alias",
          "localhost",
          "-file",
          csr.toString());
      keytool(
          password,
          "-gencert",
          "-keystore",
          caStore.toString(),
          "-alias",
          "ca",
          "-infile",
          csr.toString(),
          "-outfile",
          leafPem.toString(),
          "-rfc",
          "-ext",
          "san=dns:localhost,ip:127.0.0.1,ip:::1",
          "-ext",
          "eku=serverAuth",
          "-ext",
          "ku:c=digitalSignature",
          "-validity",
          String.valueOf(VALIDITY_DAYS));
      X509Certificate caCert;
      PrivateKey leafKey;
      try {
        caCert = (X509Certificate) load(caStore, password).getCertificate("ca");
        leafKey =
            (PrivateKey) load(leafStore, password).getKey("localhost", password.toCharArray());
      } catch (GeneralSecurityException e) {
        throw new IOException("keytool's key stores cannot be read: " + e, e);
      }
      String caPem = pem("CERTIFICATE", caCert.getEncoded());
      Path key = work.resolve(KEY);
      Files.createFile(
          key, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
      Files.writeString(key, pem("PRIVATE KEY", leafKey.getEncoded()), StandardCharsets.US_ASCII);
      Files.writeString(
          work.resolve(CERT),
          Files.readString(leafPem, StandardCharsets.US_ASCII).strip() + "\n" + caPem,
          StandardCharsets.US_ASCII);
      Files.writeString(work.resolve(CA), caPem, StandardCharsets.US_ASCII);
      // The CA's key goes away with the work directory: it signed its one certificate.
      for (String name : List.of(KEY, CA, CERT)) {
        Files.move(
            work.resolve(name),
            dir.resolve(name),
            StandardCopyOption.REPLACE_EXISTING,
            StandardCopyOption.ATOMIC_MOVE);
      }
    } catch (java.security.cert.CertificateEncodingException e) {
      throw new IOException("cannot encode the new certificate: " + e, e);
    } finally {
      deleteTree(work);
    }
  }

  private static KeyStore load(Path store, String password)
      throws IOException, GeneralSecurityException {
    KeyStore ks = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(store)) {
      ks.load(in, password.toCharArray());
    }
    return ks;
  }

  private static String pem(String type, byte[] der) {
    return "-----BEGIN "
        + type
        + "-----\n"
        + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der)
        + "\n-----END "
        + type
        + "-----\n";
  }

  private static void keytool(String password, String... args) throws IOException {
    Path tool = Path.of(System.getProperty("java.home"), "bin", "keytool");
    List<String> cmd = new ArrayList<>();
    cmd.add(Files.isExecutable(tool) ? tool.toString() : "keytool");
    cmd.addAll(List.of(args));
    cmd.addAll(List.of("-storepass:env", "LL_TLS_STOREPASS", "-noprompt"));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    pb.environment().put("LL_TLS_STOREPASS", password);
    Process p = pb.start();
    try {
      byte[] out = p.getInputStream().readAllBytes();
      if (!p.waitFor(KEYTOOL_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IOException("keytool " + args[0] + " did not finish in " + KEYTOOL_TIMEOUT);
      }
      if (p.exitValue() != 0) {
        throw new IOException(
            "keytool " + args[0] + " failed: " + new String(out, StandardCharsets.UTF_8).strip());
      }
    } catch (InterruptedException e) {
      p.destroyForcibly();
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while keytool ran", e);
    }
  }

  private static void setMode(Path p, String mode) throws IOException {
    try {
      Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(mode));
    } catch (UnsupportedOperationException e) {
      // not a POSIX file system: nothing to tighten
    }
  }

  private static void deleteTree(Path dir) {
    try (var walk = Files.walk(dir)) {
      walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      // best effort (the directory is 0700 and only its owner can read what is left)
    }
  }
}
