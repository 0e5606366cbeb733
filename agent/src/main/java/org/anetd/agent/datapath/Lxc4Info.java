package org.anetd.agent.datapath;

import java.util.HexFormat;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * How the datapath delivers to a local endpoint directly (see {@link Lxc4InfoCodec}): the host
 * veth's ifindex in the node's namespace, the endpoint id, the pod interface's MAC and the host
 * veth's MAC, both as lower-case {@code aa:bb:cc:dd:ee:ff}.
 */
public record Lxc4Info(int ifindex, int endpointId, String mac, String nodeMac) {
  private static final Pattern MAC = Pattern.compile("([0-9a-f]{2}:){5}[0-9a-f]{2}");

  public Lxc4Info {
    if (ifindex <= 0) {
      throw new IllegalArgumentException("ifindex must be positive, got " + ifindex);
    }
    if (endpointId < 0 || endpointId > 0xffff) {
      throw new IllegalArgumentException("endpoint id " + endpointId + " does not fit 16 bits");
    }
    mac = normalized(mac, "pod MAC");
    nodeMac = normalized(nodeMac, "host veth MAC");
  }

  private static String normalized(String mac, String what) {
    String m = mac == null ? "" : mac.strip().toLowerCase(Locale.ROOT);
    if (!MAC.matcher(m).matches()) {
      throw new IllegalArgumentException(what + " is not a MAC address: \"" + mac + "\"");
    }
    return m;
  }

  static byte[] bytes(String mac) {
    return HexFormat.ofDelimiter(":").parseHex(mac);
  }

  static String text(byte[] mac) {
    return HexFormat.ofDelimiter(":").formatHex(mac);
  }
}
