package org.anetd.agent.datapath;

/** An IPv4 address as an unsigned 32-bit value in host arithmetic (1.2.3.4 = 0x01020304). */
public record Ipv4(int bits) implements Comparable<Ipv4> {
  public static final Ipv4 ANY = new Ipv4(0);

  /** Parses dotted-quad text; rejects anything else with a message naming the input. */
  public static Ipv4 parse(String text) {
    String[] parts = text.trim().split("\\.", -1);
    if (parts.length != 4) {
      throw new IllegalArgumentException("not an IPv4 address: \"" + text + "\"");
    }
    int bits = 0;
    for (String p : parts) {
      if (p.isEmpty() || p.length() > 3 || !p.chars().allMatch(Character::isDigit)) {
        throw new IllegalArgumentException("not an IPv4 address: \"" + text + "\"");
      }
      int octet = Integer.parseInt(p);
      if (octet > 255) {
        throw new IllegalArgumentException("not an IPv4 address: \"" + text + "\"");
      }
      bits = (bits << 8) | octet;
    }
    return new Ipv4(bits);
  }

  public static boolean isValid(String text) {
    try {
      parse(text);
      return true;
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  @Override
  public int compareTo(Ipv4 o) {
    return Integer.compareUnsigned(bits, o.bits);
  }

  @Override
  public String toString() {
    return ((bits >>> 24) & 0xff) + "." + ((bits >>> 16) & 0xff) + "." + ((bits >>> 8) & 0xff)
        + "." + (bits & 0xff);
  }
}
