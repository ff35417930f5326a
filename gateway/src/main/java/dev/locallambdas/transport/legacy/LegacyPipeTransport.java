package dev.locallambdas.transport.legacy;

import dev.locallambdas.manifest.FunctionSpec;
import dev.locallambdas.manifest.Protocol;
import dev.locallambdas.transport.Endpoint;
import dev.locallambdas.transport.EndpointContext;
import dev.locallambdas.transport.Transport;
import dev.locallambdas.transport.http.HttpReadiness;
import java.io.IOException;
import java.nio.file.Path;
import java.util.function.LongSupplier;

/**
 * Protocol "legacy-pipe": the original local_lambdas' pipe mode. The child listens on a Unix socket
 * at PIPE_ADDRESS; each request is one connection carrying a JSON request, answered by a JSON
 * response and the child closing the connection. Unlike the original, the socket lives in the
 * gateway's private run directory rather than at the predictable /tmp/{pipe_name}.
 */
public final class LegacyPipeTransport implements Transport {
  private final HttpReadiness readiness;

  public LegacyPipeTransport() {
    this(System::nanoTime);
  }

  LegacyPipeTransport(LongSupplier nanos) {
    this.readiness = new HttpReadiness(nanos);
  }

  @Override
  public Endpoint prepare(EndpointContext context) throws IOException {
    FunctionSpec f = context.function();
    if (f.protocol() != Protocol.LEGACY_PIPE) {
      throw new IllegalArgumentException(
          "LegacyPipeTransport serves protocol legacy-pipe, not "
              + f.protocol().manifestName()
              + " of "
              + f.id());
    }
    String base = f.pipeName() != null && !f.pipeName().isBlank() ? f.pipeName() : f.id();
    Path socket = context.socketFile(fileNamePart(base) + "-" + context.instanceNumber() + ".sock");
    return new LegacyPipeEndpoint(context, socket, readiness);
  }

  /** A pipe_name made safe as part of a file name: no separators, at most 64 characters. */
  static String fileNamePart(String name) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < name.length() && sb.length() < 64; i++) {
      char c = name.charAt(i);
      boolean plain =
          c >= 'a' && c <= 'z'
              || c >= 'A' && c <= 'Z'
              || c >= '0' && c <= '9'
              || c == '.'
              || c == '_'
              || c == '-';
      sb.append(plain ? c : '_');
    }
    return sb.toString();
  }
}
