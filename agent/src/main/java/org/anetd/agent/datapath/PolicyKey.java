package org.anetd.agent.datapath;

/**
 * A policy LPM entry: endpoint, peer identity (0 = any), direction, then optionally protocol and a
 * port prefix. {@code prefixLength} counts bits from endpoint_id on; see {@link PolicyKeyCodec}.
 */
public record PolicyKey(int prefixLength, long endpointId, long identity, int direction,
    Protocol protocol, int port) {
  /** Bits of endpoint_id + identity + direction: every entry matches them exactly. */
  public static final int PREFIX_BASE = 32 + 32 + 8;
  public static final int PREFIX_FULL = PREFIX_BASE + 8 + 16;
  /** policy_key.direction, as DIR_INGRESS / DIR_EGRESS in ebpf/include/common.h. */
  public static final int DIR_INGRESS = 0;
  public static final int DIR_EGRESS = 1;

  public PolicyKey {
    if (prefixLength < PREFIX_BASE || prefixLength > PREFIX_FULL) {
      throw new IllegalArgumentException("policy prefix length " + prefixLength + " not in "
          + PREFIX_BASE + ".." + PREFIX_FULL);
    }
    if (prefixLength == PREFIX_BASE) {
      protocol = Protocol.ANY;
    }
    int portBits = Math.max(0, prefixLength - PREFIX_BASE - 8);
    port = portBits == 0 ? 0 : port & (0xffff << (16 - portBits)) & 0xffff;
  }

  /** Any protocol, any port. */
  public static PolicyKey allPorts(long endpointId, long identity, int direction) {
    return new PolicyKey(PREFIX_BASE, endpointId, identity, direction, Protocol.ANY, 0);
  }

  /** One protocol, ports matching the top {@code portBits} bits of {@code port}. */
  public static PolicyKey portPrefix(long endpointId, long identity, int direction,
      Protocol protocol, int port, int portBits) {
    return new PolicyKey(PREFIX_BASE + 8 + portBits, endpointId, identity, direction, protocol,
        port);
  }
}
