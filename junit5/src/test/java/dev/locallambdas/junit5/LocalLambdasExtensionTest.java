package dev.locallambdas.junit5;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.platform.testkit.engine.EngineTestKit;

/** The extension against the real gateway (run from its classes: locallambdas.command). */
class LocalLambdasExtensionTest {
  static final String MANIFEST = repo().resolve("examples/testing/manifest.xml").toString();
  static final List<URI> SEEN = new ArrayList<>();
  static final List<ProcessHandle> GATEWAYS = new ArrayList<>();

  static Path repo() {
    String p = System.getProperty("locallambdas.repo");
    return p != null ? Path.of(p) : Path.of("..").toAbsolutePath().normalize();
  }

  static int get(URI url) throws Exception {
    return HttpClient.newHttpClient()
        .send(HttpRequest.newBuilder(url).build(), HttpResponse.BodyHandlers.discarding())
        .statusCode();
  }

  /** Run through the test kit below, not on its own. */
  @LocalLambdas(manifest = "../examples/testing/manifest.xml", scope = LocalLambdas.Scope.CLASS)
  static class PerClass {
    @LocalLambdasUrl URI field;

    @Test
    void fieldAndParametersGetTheUrl(@LocalLambdasUrl String text, @LocalLambdasUrl URI uri)
        throws Exception {
      assertNotNull(field);
      assertEquals(field.toString(), text);
      assertEquals(field, uri);
      assertEquals(200, get(field.resolve("/python/hi")));
      SEEN.add(field);
      ProcessHandle.current().children().forEach(GATEWAYS::add);
    }

    @Test
    void theSameGatewayServesEveryTestOfTheClass(@LocalLambdasUrl URI uri) {
      SEEN.add(uri);
    }
  }

  @Test
  void startsOneGatewayForTheClassAndStopsItAfterwards() {
    SEEN.clear();
    GATEWAYS.clear();
    EngineTestKit.engine("junit-jupiter")
        .selectors(selectClass(PerClass.class))
        .execute()
        .testEvents()
        .assertStatistics(s -> s.succeeded(2).failed(0));
    assertEquals(2, SEEN.size());
    assertEquals(SEEN.get(0), SEEN.get(1));
    assertFalse(GATEWAYS.isEmpty());
    assertTrue(GATEWAYS.stream().noneMatch(ProcessHandle::isAlive), "gateway stopped");
  }

  /** Without a manifest annotation the failure says what to add. */
  @org.junit.jupiter.api.extension.ExtendWith(LocalLambdasExtension.class)
  static class Unconfigured {
    @Test
    void nothing() {}
  }

  @Test
  void aClassWithoutTheAnnotationFailsWithAClearMessage() {
    EngineTestKit.engine("junit-jupiter")
        .selectors(selectClass(Unconfigured.class))
        .execute()
        .containerEvents()
        .assertStatistics(s -> s.failed(1));
  }

  @Test
  void theCommandTakesJavaAsTheTestsJvm() {
    assertTrue(GatewayProcess.command().getFirst().endsWith("/java"));
    assertTrue(MANIFEST.endsWith("manifest.xml"));
  }
}
