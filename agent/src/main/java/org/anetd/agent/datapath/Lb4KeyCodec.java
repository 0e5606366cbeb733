package org.anetd.agent.datapath;

import static org.anetd.agent.datapath.Layout.field;

import java.nio.ByteBuffer;

/** Mirrors {@code struct lb4_key} in {@code ebpf/include/lb.h}. */
public final class Lb4KeyCodec implements Codec<Lb4Key> {
  public static final Lb4KeyCodec INSTANCE = new Lb4KeyCodec();
  static final int ADDRESS = 0; // network order
  static final int DPORT = 4; // network order
  static final int BACKEND_SLOT = 6;
  static final int PROTO = 8;
  static final int SCOPE = 9;
  static final int PAD = 10;
  public static final int SIZE = 12;
  private static final Layout LAYOUT = Layout.of("lb4_key", SIZE,
      field("address", ADDRESS, 4), field("dport", DPORT, 2), field("backend_slot", BACKEND_SLOT, 2),
      field("proto", PROTO, 1), field("scope", SCOPE, 1), field("pad", PAD, 2));

  @Override
  public Layout layout() {
    return LAYOUT;
  }

  @Override
  public byte[] encode(Lb4Key k) {
    ByteBuffer b = Bytes.writer(SIZE);
    Bytes.putBe32(b, ADDRESS, k.address().bits());
    Bytes.putBe16(b, DPORT, k.port());
    Bytes.putU16(b, BACKEND_SLOT, k.slot());
    Bytes.putU8(b, PROTO, k.protocol().number());
    Bytes.putU8(b, SCOPE, k.scope());
    return b.array();
  }

  @Override
  public Lb4Key decode(byte[] bytes) {
    ByteBuffer b = Bytes.reader(bytes, LAYOUT);
    return new Lb4Key(new Ipv4(Bytes.getBe32(b, ADDRESS)), Bytes.getBe16(b, DPORT),
        Protocol.of(Bytes.getU8(b, PROTO)), Bytes.getU8(b, SCOPE), Bytes.getU16(b, BACKEND_SLOT));
  }
}
