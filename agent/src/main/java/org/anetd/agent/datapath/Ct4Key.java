package org.anetd.agent.datapath;

/**
 * One direction of a tracked connection: the tuple as the packet carries it. See
 * {@link Ct4KeyCodec}.
 */
public record Ct4Key(Ipv4 daddr, Ipv4 saddr, int dport, int sport, Protocol protocol, int flags) {
  public static final int F_REPLY = 0x01;
  public static final int F_SERVICE = 0x02;
}
