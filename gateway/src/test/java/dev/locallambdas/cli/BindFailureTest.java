package dev.locallambdas.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import org.junit.jupiter.api.Test;

/**
 * The refusals a test cannot provoke everywhere (a port below 1024 needs a user without root);
 * CommandLineTest provokes the others for real.
 */
class BindFailureTest {
  private static final InetSocketAddress LOOPBACK_80 =
      new InetSocketAddress(InetAddress.getLoopbackAddress(), 80);

  @Test
  void permissionDeniedOnALowPortNamesTheLimitAndAWayOut() {
    IOException failure = new IOException("cannot listen", new BindException("Permission denied"));

    assertThat(BindFailure.explain(LOOPBACK_80, failure))
        .hasValueSatisfying(
            m ->
                assertThat(m)
                    .startsWith("cannot listen on 127.0.0.1:80: ports below ")
                    .contains("CAP_NET_BIND_SERVICE")
                    .contains("--bind 127.0.0.1:3000"));
  }

  @Test
  void somethingOtherThanARefusedBindIsLeftToItsOwnMessage() {
    assertThat(BindFailure.explain(LOOPBACK_80, new IOException("disk full"))).isEmpty();
  }

  @Test
  void ipv6AddressesAreWrittenAsForBind() {
    InetSocketAddress v6 = new InetSocketAddress(InetAddress.getLoopbackAddress(), 3000);
    assertThat(BindAddress.format(v6)).isEqualTo("127.0.0.1:3000");
    assertThat(BindAddress.format(BindAddress.parse("--bind", "[::1]:3000")))
        .isEqualTo("[0:0:0:0:0:0:0:1]:3000");
  }
}
