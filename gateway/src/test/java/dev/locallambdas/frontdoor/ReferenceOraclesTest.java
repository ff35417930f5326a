package dev.locallambdas.frontdoor;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Sends the front-door conformance corpus ({@link FrontDoorConformanceTest#corpus}) to reference
 * servers and tabulates their first status next to local-lambdas' (which the conformance test
 * enforces). Runs only when the system property {@code oracles} names them, as {@code
 * name=host:port,...}: bench/oracles.sh starts nginx and Node's http module and passes it. The
 * table goes to target/oracles.md.
 */
class ReferenceOraclesTest {
  private static final int READ_TIMEOUT_MILLIS = 3000;

  @Test
  void tabulateTheCorpusAgainstReferenceServers() throws IOException {
    String spec = System.getProperty("oracles");
    assumeTrue(spec != null && !spec.isBlank(), "no -Doracles=name=host:port,...");
    Map<String, InetSocketAddress> oracles = new LinkedHashMap<>();
    for (String part : spec.split(",", -1)) {
      String[] nameAddress = part.split("=", 2);
      String[] hostPort = nameAddress[1].split(":", -1);
      oracles.put(
          nameAddress[0], new InetSocketAddress(hostPort[0], Integer.parseInt(hostPort[1])));
    }
    StringBuilder table = new StringBuilder("| request | local-lambdas |");
    oracles.keySet().forEach(n -> table.append(' ').append(n).append(" |"));
    table.append("\n|---|---|").append("---|".repeat(oracles.size())).append('\n');
    List<FrontDoorConformanceTest.Case> cases = FrontDoorConformanceTest.corpus().toList();
    int[] agree = new int[oracles.size()];
    for (FrontDoorConformanceTest.Case c : cases) {
      table
          .append("| ")
          .append(c.name().replace("|", "\\|"))
          .append(" | ")
          .append(c.status())
          .append(" |");
      int i = 0;
      for (InetSocketAddress a : oracles.values()) {
        String answer = firstStatus(a, c.request());
        if (sameVerdict(c.status(), answer)) {
          agree[i]++;
        }
        table.append(' ').append(answer).append(" |");
        i++;
      }
      table.append('\n');
    }
    table
        .append("| **same verdict (accepted / refused) as local-lambdas** | ")
        .append(cases.size())
        .append(" |");
    for (int n : agree) {
      table.append(' ').append(n).append(" |");
    }
    table.append('\n');
    Files.writeString(Path.of("target", "oracles.md"), table);
    System.out.print(table);
  }

  /**
   * Both accept (2xx, or local-lambdas' 404 for a path no route matches: the oracles route
   * everything) or both refuse (any other 4xx/5xx, or no answer at all).
   */
  private static boolean sameVerdict(int ours, String theirs) {
    boolean weAccept = ours < 400 || ours == 404;
    boolean theyAccept = theirs.matches("2\\d\\d");
    return weAccept == theyAccept;
  }

  /** The status of the first response, or what happened instead. */
  private static String firstStatus(InetSocketAddress address, String request) {
    try (Socket s = new Socket(address.getAddress(), address.getPort())) {
      s.setSoTimeout(READ_TIMEOUT_MILLIS);
      s.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
      InputStream in = s.getInputStream();
      ByteArrayOutputStream line = new ByteArrayOutputStream();
      for (int b = in.read(); b >= 0 && b != '\n'; b = in.read()) {
        line.write(b);
      }
      String status = line.toString(StandardCharsets.ISO_8859_1);
      if (status.isEmpty()) {
        return "closed";
      }
      return status.startsWith("HTTP/") && status.length() >= 12
          ? status.substring(9, 12)
          : "garbage";
    } catch (SocketTimeoutException e) {
      return "no answer (3 s)";
    } catch (SocketException e) {
      return "reset";
    } catch (IOException e) {
      return "error";
    }
  }
}
