package dev.locallambdas.transport;

import dev.locallambdas.manifest.Protocol;
import dev.locallambdas.transport.cgi.CgiTransport;
import dev.locallambdas.transport.http.HttpTransport;
import dev.locallambdas.transport.inprocess.InProcessTransport;
import dev.locallambdas.transport.lambda.LambdaTransport;
import dev.locallambdas.transport.legacy.LegacyHttpTransport;
import dev.locallambdas.transport.legacy.LegacyPipeTransport;
import dev.locallambdas.transport.pipe.PipeTransport;

/**
 * The transport for each protocol. Transports are stateless factories; endpoints hold the state.
 */
public final class Transports {
  private static final Transport PIPE = new PipeTransport();
  private static final Transport HTTP = new HttpTransport();
  private static final Transport LEGACY_PIPE = new LegacyPipeTransport();
  private static final Transport LEGACY_HTTP = new LegacyHttpTransport();
  private static final Transport LAMBDA = new LambdaTransport();
  private static final Transport CGI = new CgiTransport();
  private static final Transport IN_PROCESS = new InProcessTransport();

  private Transports() {}

  public static Transport forProtocol(Protocol protocol) {
    return switch (protocol) {
      case PIPE -> PIPE;
      case HTTP -> HTTP;
      case LEGACY_PIPE -> LEGACY_PIPE;
      case LEGACY_HTTP -> LEGACY_HTTP;
      case LAMBDA -> LAMBDA;
      case CGI -> CGI;
      case IN_PROCESS -> IN_PROCESS;
    };
  }
}
