package org.anetd.agent.datapath;

import java.nio.ByteBuffer;

/** A plain {@code __u16} map key in host order (reverse NAT ids). */
public final class U16Codec implements Codec<Integer> {
  public static final U16Codec INSTANCE = new U16Codec();
  private static final Layout LAYOUT = Layout.of("__u16", 2, Layout.field("value", 0, 2));

  @Override
  public Layout layout() {
    return LAYOUT;
  }

  @Override
  public byte[] encode(Integer value) {
    ByteBuffer b = Bytes.writer(2);
    Bytes.putU16(b, 0, value);
    return b.array();
  }

  @Override
  public Integer decode(byte[] bytes) {
    return Bytes.getU16(Bytes.reader(bytes, LAYOUT), 0);
  }
}
