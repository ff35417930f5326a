package dev.locallambdas.frontdoor;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The addresses whose forwarding fields ({@code X-Forwarded-*}, {@code Forwarded}, {@code
 * X-Real-IP}) are believed (serve --trust-proxy). From such a peer the fields are kept and extended
 * with the peer's own hop; from any other peer they are replaced, so a client cannot forge its
 * address. Networks are CIDR blocks ({@code 10.0.0.0/8}, {@code fd00::/8}) or single addresses;
 * only literal addresses are accepted, never names (a name would be resolved once, and a DNS answer
 * is not a reason to trust anyone).
 */
public final class TrustedProxies {
  /** Trusts nobody: every forwarding field a client sends is replaced. */
  public static final TrustedProxies NONE = new TrustedProxies(List.of());

  // Literal addresses only: InetAddress.getByName would otherwise look names up, and it takes
  // the legacy IPv4 forms ("1.2.3" is 1.2.0.3) that nobody means in a CIDR list.
  private static final Pattern LITERAL =
      Pattern.compile("(\\d{1,3}(\\.\\d{1,3}){3})|([0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*)");

  private final List<Network> networks;

  private TrustedProxies(List<Network> networks) {
    this.networks = List.copyOf(networks);
  }

  /**
   * Parses CIDR blocks or addresses, e.g. {@code 127.0.0.1}, {@code 10.0.0.0/8}, {@code ::1/128}.
   *
   * @throws IllegalArgumentException naming the value that is not one, and what would be
   */
  public static TrustedProxies parse(List<String> values) {
    List<Network> out = new ArrayList<>();
    for (String raw : values) {
      for (String value : raw.split(",", -1)) {
        out.add(Network.parse(value.trim()));
      }
    }
    return new TrustedProxies(out);
  }

  /** Whether a request from {@code peer} may carry forwarding fields that are believed. */
  public boolean trusts(InetAddress peer) {
    if (peer == null) {
      return false;
    }
    byte[] a = peer.getAddress();
    for (Network n : networks) {
      if (n.contains(a)) {
        return true;
      }
    }
    return false;
  }

  public boolean isEmpty() {
    return networks.isEmpty();
  }

  @Override
  public String toString() {
    return networks.toString();
  }

  private static final class Network {
    private final byte[] address;
    private final int prefix;
    private final String text;

    private Network(byte[] address, int prefix, String text) {
      this.address = address;
      this.prefix = prefix;
      this.text = text;
    }

    static Network parse(String value) {
      int slash = value.indexOf('/');
      String host = slash < 0 ? value : value.substring(0, slash);
      if (host.startsWith("[") && host.endsWith("]")) {
        host = host.substring(1, host.length() - 1);
      }
      if (host.isEmpty() || !LITERAL.matcher(host).matches()) {
        throw bad(value);
      }
      byte[] address;
      try {
        address = InetAddress.getByName(host).getAddress();
      } catch (UnknownHostException e) {
        throw bad(value);
      }
      int bits = address.length * 8;
      int prefix = bits;
      if (slash >= 0) {
        try {
          prefix = Integer.parseInt(value.substring(slash + 1));
        } catch (NumberFormatException e) {
          throw bad(value);
        }
        if (prefix < 0 || prefix > bits) {
          throw new IllegalArgumentException(
              "--trust-proxy "
                  + value
                  + ": the prefix length must be between 0 and "
                  + bits
                  + " for this address");
        }
      }
      return new Network(address, prefix, value);
    }

    private static IllegalArgumentException bad(String value) {
      return new IllegalArgumentException(
          "--trust-proxy '"
              + value
              + "' is not an address or CIDR block: use e.g. 127.0.0.1, 10.0.0.0/8 or fd00::/8"
              + " (literal addresses only, no host names)");
    }

    boolean contains(byte[] candidate) {
      byte[] mine = address;
      if (candidate.length != mine.length) {
        // An IPv4 peer seen as an IPv4-mapped IPv6 address (::ffff:a.b.c.d) is the IPv4 peer.
        if (candidate.length == 16 && mine.length == 4 && isMapped(candidate)) {
          candidate = Arrays.copyOfRange(candidate, 12, 16);
        } else {
          return false;
        }
      }
      int full = prefix / 8;
      for (int i = 0; i < full; i++) {
        if (candidate[i] != mine[i]) {
          return false;
        }
      }
      int rest = prefix % 8;
      if (rest == 0) {
        return true;
      }
      int mask = (0xFF << (8 - rest)) & 0xFF;
      return (candidate[full] & mask) == (mine[full] & mask);
    }

    private static boolean isMapped(byte[] a) {
      for (int i = 0; i < 10; i++) {
        if (a[i] != 0) {
          return false;
        }
      }
      return a[10] == (byte) 0xFF && a[11] == (byte) 0xFF;
    }

    @Override
    public String toString() {
      return text;
    }
  }
}
