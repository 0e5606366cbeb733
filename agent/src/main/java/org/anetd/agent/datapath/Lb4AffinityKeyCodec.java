package org.anetd.agent.datapath;

import static org.anetd.agent.datapath.Layout.field;

import java.nio.ByteBuffer;

/** Mirrors {@code struct lb4_affinity_key} in {@code ebpf/include/lb.h}. */
public final class Lb4AffinityKeyCodec implements Codec<Lb4AffinityKey> {
  public static final Lb4AffinityKeyCodec INSTANCE = new Lb4AffinityKeyCodec();
  static final int CLIENT_IP = 0; // network order
  static final int REV_NAT_ID = 4;
  static final int PAD = 6;
  public static final int SIZE = 8;
  private static final Layout LAYOUT = Layout.of("lb4_affinity_key", SIZE,
      field("client_ip", CLIENT_IP, 4), field("rev_nat_id", REV_NAT_ID, 2), field("pad", PAD, 2));

  @Override
  public Layout layout() {
    return LAYOUT;
  }

  @Override
  public byte[] encode(Lb4AffinityKey v) {
    ByteBuffer b = Bytes.writer(SIZE);
    Bytes.putBe32(b, CLIENT_IP, v.clientIp().bits());
    Bytes.putU16(b, REV_NAT_ID, v.revNatId());
    return b.array();
  }

  @Override
  public Lb4AffinityKey decode(byte[] bytes) {
    ByteBuffer b = Bytes.reader(bytes, LAYOUT);
    return new Lb4AffinityKey(new Ipv4(Bytes.getBe32(b, CLIENT_IP)), Bytes.getU16(b, REV_NAT_ID));
  }
}
