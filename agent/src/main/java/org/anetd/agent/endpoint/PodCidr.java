package org.anetd.agent.endpoint;

import org.anetd.agent.datapath.Ipv4;

/**
 * The node's pod address range (Node spec.podCIDR or config), e.g. 10.4.1.0/24.
 *
 * <p>Three addresses are never handed to pods: the network address, the first host address
 * (reserved for the node's own router address, as Cilium's cilium_host takes it) and the
 * broadcast address. A /24 thus has 253 pod addresses.
 */
public record PodCidr(Ipv4 network, int prefixLength) {
  /** The addresses of the range that are never allocated. */
  public static final int RESERVED_ADDRESSES = 3;

  public PodCidr {
    if (prefixLength < 0 || prefixLength > 30) {
      throw new IllegalArgumentException("pod CIDR " + network + "/" + prefixLength
          + " is too small: it needs at least a /30 (network, gateway, one pod, broadcast)");
    }
    if ((network.bits() & ~mask(prefixLength)) != 0) {
      throw new IllegalArgumentException("pod CIDR " + network + "/" + prefixLength
          + " has host bits set; did you mean " + new Ipv4(network.bits() & mask(prefixLength))
          + "/" + prefixLength + "?");
    }
  }

  /** Parses "a.b.c.d/n"; the message names the input on any mistake. */
  public static PodCidr parse(String text) {
    String t = text == null ? "" : text.trim();
    int slash = t.indexOf('/');
    if (slash < 0) {
      throw new IllegalArgumentException("pod CIDR \"" + text + "\" is not of the form a.b.c.d/n");
    }
    int prefix;
    try {
      prefix = Integer.parseInt(t.substring(slash + 1));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("pod CIDR \"" + text + "\" has no numeric prefix length");
    }
    Ipv4 address;
    try {
      address = Ipv4.parse(t.substring(0, slash));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("pod CIDR \"" + text + "\": " + e.getMessage());
    }
    return new PodCidr(address, prefix);
  }

  /** All addresses of the range, reserved ones included. */
  public long totalAddresses() {
    return 1L << (32 - prefixLength);
  }

  /** How many addresses pods can get. */
  public int poolSize() {
    return (int) (totalAddresses() - RESERVED_ADDRESSES);
  }

  /** The address kept for the node's router (network + 1). */
  public Ipv4 gatewayReserved() {
    return new Ipv4(network.bits() + 1);
  }

  public Ipv4 broadcast() {
    return new Ipv4(network.bits() | ~mask(prefixLength));
  }

  /** The lowest address a pod may get. */
  public Ipv4 firstPodAddress() {
    return new Ipv4(network.bits() + 2);
  }

  /** The highest address a pod may get. */
  public Ipv4 lastPodAddress() {
    return new Ipv4(broadcast().bits() - 1);
  }

  public boolean contains(Ipv4 address) {
    return (address.bits() & mask(prefixLength)) == network.bits();
  }

  /** True when pods may be given {@code address}. */
  public boolean isPodAddress(Ipv4 address) {
    return contains(address) && address.compareTo(firstPodAddress()) >= 0
        && address.compareTo(lastPodAddress()) <= 0;
  }

  private static int mask(int prefixLength) {
    return prefixLength == 0 ? 0 : -1 << (32 - prefixLength);
  }

  @Override
  public String toString() {
    return network + "/" + prefixLength;
  }
}
