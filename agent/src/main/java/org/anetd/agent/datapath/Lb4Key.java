package org.anetd.agent.datapath;

/**
 * A service frontend slot: (address, port, protocol, scope) and the slot number; slot 0 is the
 * master entry. See {@link Lb4KeyCodec}.
 */
public record Lb4Key(Ipv4 address, int port, Protocol protocol, int scope, int slot) {
  public static final int SCOPE_EXTERNAL = 0;
  public static final int SCOPE_INTERNAL = 1;

  public Lb4Key master() {
    return new Lb4Key(address, port, protocol, scope, 0);
  }

  public Lb4Key withSlot(int s) {
    return new Lb4Key(address, port, protocol, scope, s);
  }
}
