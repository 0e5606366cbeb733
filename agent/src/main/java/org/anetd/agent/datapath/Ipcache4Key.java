package org.anetd.agent.datapath;

/** An IPv4 prefix in the ipcache LPM trie. See {@link Ipcache4KeyCodec}. */
public record Ipcache4Key(int prefixLength, Ipv4 address) {
  public Ipcache4Key {
    if (prefixLength < 0 || prefixLength > 32) {
      throw new IllegalArgumentException("prefix length " + prefixLength + " not in 0..32");
    }
    int mask = prefixLength == 0 ? 0 : -1 << (32 - prefixLength);
    address = new Ipv4(address.bits() & mask); // LPM keys must not carry host bits
  }

  public static Ipcache4Key host(Ipv4 address) {
    return new Ipcache4Key(32, address);
  }
}
