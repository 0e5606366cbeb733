package org.anetd.agent.policy;

import java.util.Comparator;
import org.anetd.agent.datapath.Ipcache4Key;
import org.anetd.agent.datapath.Ipv4;

/** An IPv4 prefix with no host bits set. Sorted by address, then shorter prefix first. */
public record Cidr(Ipv4 address, int length) implements Comparable<Cidr> {
  public static final Cidr ALL = new Cidr(Ipv4.ANY, 0);
  private static final Comparator<Cidr> ORDER =
      Comparator.comparing(Cidr::address).thenComparingInt(Cidr::length);

  public Cidr {
    if (length < 0 || length > 32) {
      throw new IllegalArgumentException("prefix length " + length + " not in 0..32");
    }
    address = new Ipv4(address.bits() & mask(length));
  }

  /**
   * Parses {@code a.b.c.d/n}. Like the API server, host bits are cleared rather than rejected
   * (10.0.0.1/24 is 10.0.0.0/24).
   */
  public static Cidr parse(String text) {
    int slash = text == null ? -1 : text.indexOf('/');
    if (slash < 0) {
      throw new IllegalArgumentException("not an IPv4 CIDR: \"" + text + "\"");
    }
    String len = text.substring(slash + 1);
    if (len.isEmpty() || len.length() > 2 || !len.chars().allMatch(Character::isDigit)) {
      throw new IllegalArgumentException("not an IPv4 CIDR: \"" + text + "\"");
    }
    int n = Integer.parseInt(len);
    if (n > 32) {
      throw new IllegalArgumentException("not an IPv4 CIDR: \"" + text + "\"");
    }
    return new Cidr(Ipv4.parse(text.substring(0, slash)), n);
  }

  public static boolean isIpv6(String text) {
    return text != null && text.contains(":");
  }

  public static Cidr host(Ipv4 address) {
    return new Cidr(address, 32);
  }

  public boolean contains(Ipv4 ip) {
    return (ip.bits() & mask(length)) == address.bits();
  }

  /** True when every address of {@code other} is in this prefix (a prefix contains itself). */
  public boolean contains(Cidr other) {
    return other.length >= length && contains(other.address);
  }

  public Ipcache4Key toKey() {
    return new Ipcache4Key(length, address);
  }

  static int mask(int length) {
    return length == 0 ? 0 : -1 << (32 - length);
  }

  @Override
  public int compareTo(Cidr o) {
    return ORDER.compare(this, o);
  }

  @Override
  public String toString() {
    return address + "/" + length;
  }
}
