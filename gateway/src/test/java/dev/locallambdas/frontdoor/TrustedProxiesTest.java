package dev.locallambdas.frontdoor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.util.List;
import org.junit.jupiter.api.Test;

class TrustedProxiesTest {
  private static boolean trusts(TrustedProxies t, String address) throws Exception {
    return t.trusts(InetAddress.getByName(address));
  }

  @Test
  void aBlockTrustsItsAddressesOnly() throws Exception {
    TrustedProxies t = TrustedProxies.parse(List.of("10.1.0.0/16", "192.168.7.9"));
    assertThat(trusts(t, "10.1.255.3")).isTrue();
    assertThat(trusts(t, "10.2.0.1")).isFalse();
    assertThat(trusts(t, "192.168.7.9")).isTrue();
    assertThat(trusts(t, "192.168.7.10")).isFalse();
  }

  @Test
  void prefixesThatAreNotWholeBytesAreMasked() throws Exception {
    TrustedProxies t = TrustedProxies.parse(List.of("172.16.0.0/12"));
    assertThat(trusts(t, "172.31.255.255")).isTrue();
    assertThat(trusts(t, "172.32.0.0")).isFalse();
    assertThat(trusts(t, "172.15.255.255")).isFalse();
  }

  @Test
  void ipv6BlocksAndMappedIpv4Peers() throws Exception {
    TrustedProxies t = TrustedProxies.parse(List.of("fd00::/8,[::1]", "127.0.0.1"));
    assertThat(trusts(t, "fd12:3456::1")).isTrue();
    assertThat(trusts(t, "fe80::1")).isFalse();
    assertThat(trusts(t, "::1")).isTrue();
    assertThat(t.trusts(InetAddress.getByAddress(mapped(127, 0, 0, 1)))).isTrue();
    assertThat(t.trusts(InetAddress.getByAddress(mapped(127, 0, 0, 2)))).isFalse();
  }

  private static byte[] mapped(int a, int b, int c, int d) {
    byte[] out = new byte[16];
    out[10] = (byte) 0xFF;
    out[11] = (byte) 0xFF;
    out[12] = (byte) a;
    out[13] = (byte) b;
    out[14] = (byte) c;
    out[15] = (byte) d;
    return out;
  }

  @Test
  void nobodyIsTrustedByDefault() throws Exception {
    assertThat(TrustedProxies.NONE.isEmpty()).isTrue();
    assertThat(trusts(TrustedProxies.NONE, "127.0.0.1")).isFalse();
    assertThat(TrustedProxies.NONE.trusts(null)).isFalse();
  }

  @Test
  void namesAndMalformedBlocksAreRefusedWithAnExample() {
    for (String bad : List.of("localhost", "10.0.0.0/33", "10.0.0.0/x", "", "::1/129", "1.2.3")) {
      assertThatThrownBy(() -> TrustedProxies.parse(List.of(bad)))
          .as(bad)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("--trust-proxy");
    }
    assertThatThrownBy(() -> TrustedProxies.parse(List.of("proxy.internal")))
        .hasMessageContaining("10.0.0.0/8")
        .hasMessageContaining("no host names");
  }
}
