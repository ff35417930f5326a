package benchfn;

import io.helidon.http.HeaderNames;
import io.helidon.webserver.WebServer;
import io.helidon.webserver.http.Handler;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/**
 * Benchmark function, HTTP-only, on a real web framework: Helidon SE 4 (its own HTTP/1.1 server on
 * virtual threads). The same answers as {@link PipeFunction}. Listens at HTTP_ADDRESS (host:port)
 * or 127.0.0.1:PORT; the gateway stops it with SIGTERM, and it dies with the gateway through the
 * parent-death signal the gateway arranges.
 */
public final class HttpFunction {
  private static final byte[] BODY =
      "{\"ok\":true,\"runtime\":\"java\",\"transport\":\"http\"}".getBytes(StandardCharsets.UTF_8);

  private HttpFunction() {}

  public static void main(String[] args) {
    String host = "127.0.0.1";
    int port;
    String address = System.getenv("HTTP_ADDRESS");
    if (address != null && !address.isEmpty()) {
      int colon = address.lastIndexOf(':');
      host = address.substring(0, colon).replace("[", "").replace("]", "");
      port = Integer.parseInt(address.substring(colon + 1));
    } else if (System.getenv("PORT") != null) {
      port = Integer.parseInt(System.getenv("PORT"));
    } else {
      System.err.println("run me under local-lambdas; neither HTTP_ADDRESS nor PORT is set");
      System.exit(2);
      return;
    }
    WebServer.builder()
        .host(host)
        .port(port)
        .routing(r -> r.get("/*", new Get()).post("/*", new Echo()))
        .build()
        .start();
  }

  private static final class Get implements Handler {
    @Override
    public void handle(ServerRequest req, ServerResponse res) {
      res.header(HeaderNames.CONTENT_TYPE, "application/json");
      res.header(HeaderNames.CACHE_CONTROL, "no-store");
      res.send(BODY);
    }
  }

  private static final class Echo implements Handler {
    @Override
    public void handle(ServerRequest req, ServerResponse res) {
      res.header(HeaderNames.CONTENT_TYPE, "application/octet-stream");
      res.header(HeaderNames.CACHE_CONTROL, "no-store");
      req.headers()
          .contentLength()
          .ifPresent(n -> res.header(HeaderNames.CONTENT_LENGTH, Long.toString(n)));
      try (InputStream in = req.content().inputStream();
          OutputStream out = res.outputStream()) {
        in.transferTo(out);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }
}
