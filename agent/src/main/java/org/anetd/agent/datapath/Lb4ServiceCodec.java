package org.anetd.agent.datapath;

import static org.anetd.agent.datapath.Layout.field;

import java.nio.ByteBuffer;

/** Mirrors {@code struct lb4_service} in {@code ebpf/include/lb.h}. */
public final class Lb4ServiceCodec implements Codec<Lb4Service> {
  public static final Lb4ServiceCodec INSTANCE = new Lb4ServiceCodec();
  static final int BACKEND_ID = 0;
  static final int COUNT = 4;
  static final int REV_NAT_ID = 6;
  static final int FLAGS = 8;
  static final int PAD = 9;
  public static final int SIZE = 12;
  private static final Layout LAYOUT = Layout.of("lb4_service", SIZE,
      field("backend_id", BACKEND_ID, 4), field("count", COUNT, 2),
      field("rev_nat_id", REV_NAT_ID, 2), field("flags", FLAGS, 1), field("pad", PAD, 3));

  @Override
  public Layout layout() {
    return LAYOUT;
  }

  @Override
  public byte[] encode(Lb4Service v) {
    ByteBuffer b = Bytes.writer(SIZE);
    Bytes.putU32(b, BACKEND_ID, v.backendId());
    Bytes.putU16(b, COUNT, v.count());
    Bytes.putU16(b, REV_NAT_ID, v.revNatId());
    Bytes.putU8(b, FLAGS, v.flags());
    return b.array();
  }

  @Override
  public Lb4Service decode(byte[] bytes) {
    ByteBuffer b = Bytes.reader(bytes, LAYOUT);
    return new Lb4Service(Bytes.getU32(b, BACKEND_ID), Bytes.getU16(b, COUNT),
        Bytes.getU16(b, REV_NAT_ID), Bytes.getU8(b, FLAGS));
  }
}
