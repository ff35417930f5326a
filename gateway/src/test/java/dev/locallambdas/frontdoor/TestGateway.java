package dev.locallambdas.frontdoor;

import dev.locallambdas.function.FunctionPool;
import dev.locallambdas.manifest.FunctionSpec;
import dev.locallambdas.manifest.Manifest;
import dev.locallambdas.server.Gateway;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;

/**
 * A real gateway on 127.0.0.1 with three cue functions (the scriptable Python child, built as
 * it.TestManifests builds it):
 *
 * <ul>
 *   <li>{@code cue} at {@code /cue/*}: the one requests are meant to reach;
 *   <li>{@code guard} at {@code /guard/*}: requests the front door must refuse are sent here, and
 *       the test checks it never started an instance;
 *   <li>{@code small} at {@code /small/*}: accepts bodies of at most {@link #SMALL_LIMIT} bytes.
 * </ul>
 */
final class TestGateway implements AutoCloseable {
  static final long SMALL_LIMIT = 1024;

  private final Gateway gateway;

  private TestGateway(Gateway gateway) {
    this.gateway = gateway;
  }

  static TestGateway start() throws IOException {
    return start(TrustedProxies.NONE);
  }

  /** A gateway that believes the forwarding fields of {@code trusted} peers. */
  static TestGateway start(TrustedProxies trusted) throws IOException {
    Manifest manifest =
        new Manifest(
            repo().resolve("test-manifest.xml"),
            false,
            List.of(
                cue("cue").maxInstances(1).build(),
                cue("guard").build(),
                cue("small").maxBodyBytes(SMALL_LIMIT).build()));
    return new TestGateway(
        Gateway.builder(manifest)
            .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
            .trustProxies(trusted)
            .start());
  }

  InetSocketAddress address() {
    return gateway.address();
  }

  FunctionPool pool(String id) {
    return gateway.supervisor().pool(id);
  }

  /** True when the function never had an instance: no request ever reached it. */
  boolean neverStarted(String id) {
    return pool(id).instances().isEmpty();
  }

  RawConnection connect() throws IOException {
    return RawConnection.open(address());
  }

  @Override
  public void close() {
    gateway.close();
  }

  static Path repo() {
    String p = System.getProperty("locallambdas.repo");
    Path dir = p != null ? Path.of(p) : Path.of("..").toAbsolutePath().normalize();
    if (!dir.resolve("sdk").toFile().isDirectory()) {
      dir = Path.of("").toAbsolutePath().getParent();
    }
    return dir;
  }

  private static FunctionSpec.Builder cue(String id) {
    return FunctionSpec.builder(id)
        .executable("python3")
        .arg(repo().resolve("gateway/src/test/resources/children/cue.py").toString())
        .route("/" + id + "/*")
        .env("SDK_PYTHON", repo().resolve("sdk/python").toString())
        .env("PYTHONUNBUFFERED", "1")
        .workingDir(repo());
  }
}
