package org.anetd.agent.datapath;

/**
 * One direction of a tracked connection: the tuple as the packet carries it. See
 * {@link Ct4KeyCodec}.
 */
public record Ct4Key(Ipv4 daddr, Ipv4 saddr, int dport, int sport, Protocol protocol, int flags) {
  public static final int F_REPLY = 0x01;
  public static final int F_SERVICE = 0x02;
  /** Policy entry: a tuple the local endpoint sends (looked up in from_container). */
  public static final int F_POL_TX = 0x04;
  /** Policy entry: a tuple the local endpoint receives (looked up in to_container). */
  public static final int F_POL_RX = 0x08;
}
