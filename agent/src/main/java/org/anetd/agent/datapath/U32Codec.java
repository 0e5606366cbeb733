package org.anetd.agent.datapath;

import java.nio.ByteBuffer;

/** A plain {@code __u32} map key in host order (backend ids, endpoint ids). */
public final class U32Codec implements Codec<Long> {
  public static final U32Codec INSTANCE = new U32Codec();
  private static final Layout LAYOUT = Layout.of("__u32", 4, Layout.field("value", 0, 4));

  @Override
  public Layout layout() {
    return LAYOUT;
  }

  @Override
  public byte[] encode(Long value) {
    ByteBuffer b = Bytes.writer(4);
    Bytes.putU32(b, 0, value);
    return b.array();
  }

  @Override
  public Long decode(byte[] bytes) {
    return Bytes.getU32(Bytes.reader(bytes, LAYOUT), 0);
  }
}
