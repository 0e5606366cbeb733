package org.anetd.agent.datapath;

import static org.anetd.agent.datapath.Layout.field;

import java.nio.ByteBuffer;

/** Mirrors {@code struct lb4_reverse_nat} in {@code ebpf/include/lb.h}. */
public final class Lb4ReverseNatCodec implements Codec<Lb4ReverseNat> {
  public static final Lb4ReverseNatCodec INSTANCE = new Lb4ReverseNatCodec();
  static final int ADDRESS = 0; // network order
  static final int PORT = 4; // network order
  static final int PAD = 6;
  public static final int SIZE = 8;
  private static final Layout LAYOUT = Layout.of("lb4_reverse_nat", SIZE,
      field("address", ADDRESS, 4), field("port", PORT, 2), field("pad", PAD, 2));

  @Override
  public Layout layout() {
    return LAYOUT;
  }

  @Override
  public byte[] encode(Lb4ReverseNat v) {
    ByteBuffer b = Bytes.writer(SIZE);
    Bytes.putBe32(b, ADDRESS, v.address().bits());
    Bytes.putBe16(b, PORT, v.port());
    return b.array();
  }

  @Override
  public Lb4ReverseNat decode(byte[] bytes) {
    ByteBuffer b = Bytes.reader(bytes, LAYOUT);
    return new Lb4ReverseNat(new Ipv4(Bytes.getBe32(b, ADDRESS)), Bytes.getBe16(b, PORT));
  }
}
