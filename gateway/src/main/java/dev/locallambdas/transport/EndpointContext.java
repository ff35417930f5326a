package dev.locallambdas.transport;

import dev.locallambdas.manifest.FunctionSpec;
import java.nio.file.Path;

/**
 * What a transport needs to prepare one instance's endpoint: the function, the instance's number
 * (unique per function for the gateway's lifetime) and the gateway's private run directory (mode
 * 0700) where socket files go.
 */
public record EndpointContext(FunctionSpec function, int instanceNumber, Path runDirectory) {
  /** "function#3", for logs and socket file names. */
  public String label() {
    return function.id() + "#" + instanceNumber;
  }
}
