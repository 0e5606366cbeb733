package org.anetd.agent.datapath;

import java.nio.ByteBuffer;

/** A plain {@code __be32} map key: an IPv4 address in network order (anetd_lxc). */
public final class Ipv4KeyCodec implements Codec<Ipv4> {
  public static final Ipv4KeyCodec INSTANCE = new Ipv4KeyCodec();
  private static final Layout LAYOUT = Layout.of("__be32", 4, Layout.field("value", 0, 4));

  @Override
  public Layout layout() {
    return LAYOUT;
  }

  @Override
  public byte[] encode(Ipv4 value) {
    ByteBuffer b = Bytes.writer(4);
    Bytes.putBe32(b, 0, value.bits());
    return b.array();
  }

  @Override
  public Ipv4 decode(byte[] bytes) {
    return new Ipv4(Bytes.getBe32(Bytes.reader(bytes, LAYOUT), 0));
  }
}
