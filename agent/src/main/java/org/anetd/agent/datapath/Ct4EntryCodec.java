package org.anetd.agent.datapath;

import static org.anetd.agent.datapath.Layout.field;

import java.nio.ByteBuffer;

/** Mirrors {@code struct ct4_entry} in {@code ebpf/include/ct.h}. */
public final class Ct4EntryCodec implements Codec<Ct4Entry> {
  public static final Ct4EntryCodec INSTANCE = new Ct4EntryCodec();
  static final int EXPIRES_NS = 0;
  static final int PACKETS = 8;
  static final int BYTES = 16;
  static final int BACKEND_ID = 24;
  static final int NAT_ADDR = 28; // network order
  static final int NAT_PORT = 32; // network order
  static final int REV_NAT_ID = 34;
  static final int FLAGS = 36;
  static final int POLICY_ID = 38;
  public static final int SIZE = 40;
  private static final Layout LAYOUT = Layout.of("ct4_entry", SIZE,
      field("expires_ns", EXPIRES_NS, 8), field("packets", PACKETS, 8), field("bytes", BYTES, 8),
      field("backend_id", BACKEND_ID, 4), field("nat_addr", NAT_ADDR, 4),
      field("nat_port", NAT_PORT, 2), field("rev_nat_id", REV_NAT_ID, 2),
      field("flags", FLAGS, 2), field("policy_id", POLICY_ID, 2));

  @Override
  public Layout layout() {
    return LAYOUT;
  }

  @Override
  public byte[] encode(Ct4Entry v) {
    ByteBuffer b = Bytes.writer(SIZE);
    Bytes.putU64(b, EXPIRES_NS, v.expiresNs());
    Bytes.putU64(b, PACKETS, v.packets());
    Bytes.putU64(b, BYTES, v.bytes());
    Bytes.putU32(b, BACKEND_ID, v.backendId());
    Bytes.putBe32(b, NAT_ADDR, v.natAddress().bits());
    Bytes.putBe16(b, NAT_PORT, v.natPort());
    Bytes.putU16(b, REV_NAT_ID, v.revNatId());
    Bytes.putU16(b, FLAGS, v.flags());
    Bytes.putU16(b, POLICY_ID, v.policyId());
    return b.array();
  }

  @Override
  public Ct4Entry decode(byte[] bytes) {
    ByteBuffer b = Bytes.reader(bytes, LAYOUT);
    return new Ct4Entry(Bytes.getU64(b, EXPIRES_NS), Bytes.getU64(b, PACKETS),
        Bytes.getU64(b, BYTES), Bytes.getU32(b, BACKEND_ID), new Ipv4(Bytes.getBe32(b, NAT_ADDR)),
        Bytes.getBe16(b, NAT_PORT), Bytes.getU16(b, REV_NAT_ID), Bytes.getU16(b, FLAGS),
        Bytes.getU16(b, POLICY_ID));
  }
}
