package dev.locallambdas.it;

import dev.locallambdas.manifest.FunctionSpec;
import dev.locallambdas.manifest.Manifest;
import dev.locallambdas.manifest.Protocol;
import java.nio.file.Path;
import java.util.List;

/** Paths into the repository and ready-made function specs for integration tests. */
final class TestManifests {
  private TestManifests() {}

  static Path repo() {
    String p = System.getProperty("locallambdas.repo");
    Path dir = p != null ? Path.of(p) : Path.of("..").toAbsolutePath().normalize();
    if (!dir.resolve("sdk").toFile().isDirectory()) {
      dir = Path.of("").toAbsolutePath().getParent();
    }
    return dir;
  }

  static Path child(String name) {
    return repo().resolve("gateway/src/test/resources/children").resolve(name);
  }

  /** A pipe function running the scriptable cue child under the Python SDK, routed at /{id}/*. */
  static FunctionSpec.Builder cue(String id) {
    return FunctionSpec.builder(id)
        .executable("python3")
        .arg(child("cue.py").toString())
        .route("/" + id + "/*")
        .env("SDK_PYTHON", repo().resolve("sdk/python").toString())
        .env("PYTHONUNBUFFERED", "1")
        .workingDir(repo());
  }

  /** A pipe function that breaks the protocol on cue (raw.py), routed at /{id}/*. */
  static FunctionSpec.Builder raw(String id) {
    return FunctionSpec.builder(id)
        .executable("python3")
        .arg(child("raw.py").toString())
        .route("/" + id + "/*")
        .workingDir(repo());
  }

  /** The java launcher of the JVM running the tests (a JDK 25), for Java children. */
  static String java() {
    return ProcessHandle.current().info().command().orElseThrow();
  }

  /** Class path of the compiled Java examples and SDK (the reactor builds both before gateway). */
  static String javaExamplesClasspath() {
    return repo().resolve("examples/java/target/classes")
        + ":"
        + repo().resolve("sdk-java/target/classes");
  }

  /** A function running a Python example, {@code examples/python/NAME}, routed at {@code route}. */
  static FunctionSpec.Builder pythonExample(String id, String name, String route) {
    return FunctionSpec.builder(id)
        .executable("python3")
        .arg(repo().resolve("examples/python").resolve(name).toString())
        .route(route)
        .env("PYTHONUNBUFFERED", "1")
        .workingDir(repo());
  }

  /** A function running a Node example, {@code examples/node/NAME}, routed at {@code route}. */
  static FunctionSpec.Builder nodeExample(String id, String name, String route) {
    return FunctionSpec.builder(id)
        .executable("node")
        .arg(repo().resolve("examples/node").resolve(name).toString())
        .route(route)
        .workingDir(repo());
  }

  /** A function running a Java example class from examples/java, routed at {@code route}. */
  static FunctionSpec.Builder javaExample(String id, String mainClass, String route) {
    return FunctionSpec.builder(id)
        .executable(java())
        .arg("-XX:TieredStopAtLevel=1")
        .arg("-XX:+UseSerialGC")
        .arg("-cp")
        .arg(javaExamplesClasspath())
        .arg(mainClass)
        .route(route)
        .workingDir(repo());
  }

  /**
   * The HTTP-mode example, examples/http/server.py (GET greets, POST echoes), routed at {@code
   * route}.
   */
  static FunctionSpec.Builder httpExample(String id, String route) {
    return FunctionSpec.builder(id)
        .executable("python3")
        .arg(repo().resolve("examples/http/server.py").toString())
        .route(route)
        .protocol(Protocol.HTTP)
        .workingDir(repo());
  }

  /** The barrier child (children/barrier.py) under the Python SDK, routed at /{id}/*. */
  /**
   * An http function running children/websocket_echo.py (RFC 6455 echo) on /ID/*; upgrades are off
   * until the caller adds {@code .upgrade("websocket")}.
   */
  static FunctionSpec.Builder websocketEcho(String id) {
    return FunctionSpec.builder(id)
        .executable("python3")
        .arg(child("websocket_echo.py").toString())
        .protocol(dev.locallambdas.manifest.Protocol.HTTP)
        .route("/" + id + "/*")
        .workingDir(repo());
  }

  static FunctionSpec.Builder pythonBarrier(String id) {
    return FunctionSpec.builder(id)
        .executable("python3")
        .arg(child("barrier.py").toString())
        .route("/" + id + "/*")
        .env("SDK_PYTHON", repo().resolve("sdk/python").toString())
        .workingDir(repo());
  }

  /** The barrier child (children/barrier.js) under the Node SDK, routed at /{id}/*. */
  static FunctionSpec.Builder nodeBarrier(String id) {
    return FunctionSpec.builder(id)
        .executable("node")
        .arg(child("barrier.js").toString())
        .route("/" + id + "/*")
        .env("SDK_NODE", repo().resolve("sdk/node").toString())
        .workingDir(repo());
  }

  /**
   * The barrier child (children/Barrier.java, launched from source) under the Java SDK, routed at
   * /{id}/*.
   */
  static FunctionSpec.Builder javaBarrier(String id) {
    return FunctionSpec.builder(id)
        .executable(java())
        .arg("-XX:TieredStopAtLevel=1")
        .arg("-cp")
        .arg(repo().resolve("sdk-java/target/classes").toString())
        .arg(child("Barrier.java").toString())
        .route("/" + id + "/*")
        .startupTimeout(java.time.Duration.ofSeconds(30))
        .workingDir(repo());
  }

  /**
   * The barrier child as an HTTP-mode server without SDK (children/barrier_http.py), routed at
   * /{id}/*.
   */
  static FunctionSpec.Builder httpBarrier(String id) {
    return FunctionSpec.builder(id)
        .executable("python3")
        .arg(child("barrier_http.py").toString())
        .route("/" + id + "/*")
        .protocol(Protocol.HTTP)
        .workingDir(repo());
  }

  /** The http-mode child that fails on cue (children/faults_http.py), routed at /{id}/*. */
  static FunctionSpec.Builder faultsHttp(String id) {
    return FunctionSpec.builder(id)
        .executable("python3")
        .arg(child("faults_http.py").toString())
        .route("/" + id + "/*")
        .protocol(Protocol.HTTP)
        .workingDir(repo());
  }

  static Manifest manifest(FunctionSpec... functions) {
    return new Manifest(repo().resolve("test-manifest.xml"), false, List.of(functions));
  }
}
