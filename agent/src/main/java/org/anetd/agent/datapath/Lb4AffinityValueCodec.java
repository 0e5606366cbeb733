package org.anetd.agent.datapath;

import static org.anetd.agent.datapath.Layout.field;

import java.nio.ByteBuffer;

/** Mirrors {@code struct lb4_affinity_value} in {@code ebpf/include/lb.h}. */
public final class Lb4AffinityValueCodec implements Codec<Lb4AffinityValue> {
  public static final Lb4AffinityValueCodec INSTANCE = new Lb4AffinityValueCodec();
  static final int LAST_USED_NS = 0;
  static final int BACKEND_ID = 8;
  static final int PAD = 12;
  public static final int SIZE = 16;
  private static final Layout LAYOUT = Layout.of("lb4_affinity_value", SIZE,
      field("last_used_ns", LAST_USED_NS, 8), field("backend_id", BACKEND_ID, 4),
      field("pad", PAD, 4));

  @Override
  public Layout layout() {
    return LAYOUT;
  }

  @Override
  public byte[] encode(Lb4AffinityValue v) {
    ByteBuffer b = Bytes.writer(SIZE);
    Bytes.putU64(b, LAST_USED_NS, v.lastUsedNs());
    Bytes.putU32(b, BACKEND_ID, v.backendId());
    return b.array();
  }

  @Override
  public Lb4AffinityValue decode(byte[] bytes) {
    ByteBuffer b = Bytes.reader(bytes, LAYOUT);
    return new Lb4AffinityValue(Bytes.getU64(b, LAST_USED_NS), Bytes.getU32(b, BACKEND_ID));
  }
}
