package dev.locallambdas.sdk;

/** Every test of {@link ServerTest} against a gateway that chooses version 1 (1.0). */
class ServerVersion1Test extends ServerTest {

  @Override
  int version() {
    return 1;
  }
}
