package org.anetd.agent.datapath;

import static org.anetd.agent.datapath.Layout.field;

import java.nio.ByteBuffer;

/** Mirrors {@code struct ct4_key} in {@code ebpf/include/ct.h}. */
public final class Ct4KeyCodec implements Codec<Ct4Key> {
  public static final Ct4KeyCodec INSTANCE = new Ct4KeyCodec();
  static final int DADDR = 0; // network order
  static final int SADDR = 4; // network order
  static final int DPORT = 8; // network order
  static final int SPORT = 10; // network order
  static final int NEXTHDR = 12;
  static final int FLAGS = 13;
  static final int PAD = 14;
  public static final int SIZE = 16;
  private static final Layout LAYOUT = Layout.of("ct4_key", SIZE,
      field("daddr", DADDR, 4), field("saddr", SADDR, 4), field("dport", DPORT, 2),
      field("sport", SPORT, 2), field("nexthdr", NEXTHDR, 1), field("flags", FLAGS, 1),
      field("pad", PAD, 2));

  @Override
  public Layout layout() {
    return LAYOUT;
  }

  @Override
  public byte[] encode(Ct4Key k) {
    ByteBuffer b = Bytes.writer(SIZE);
    Bytes.putBe32(b, DADDR, k.daddr().bits());
    Bytes.putBe32(b, SADDR, k.saddr().bits());
    Bytes.putBe16(b, DPORT, k.dport());
    Bytes.putBe16(b, SPORT, k.sport());
    Bytes.putU8(b, NEXTHDR, k.protocol().number());
    Bytes.putU8(b, FLAGS, k.flags());
    return b.array();
  }

  @Override
  public Ct4Key decode(byte[] bytes) {
    ByteBuffer b = Bytes.reader(bytes, LAYOUT);
    return new Ct4Key(new Ipv4(Bytes.getBe32(b, DADDR)), new Ipv4(Bytes.getBe32(b, SADDR)),
        Bytes.getBe16(b, DPORT), Bytes.getBe16(b, SPORT), Protocol.of(Bytes.getU8(b, NEXTHDR)),
        Bytes.getU8(b, FLAGS));
  }
}
