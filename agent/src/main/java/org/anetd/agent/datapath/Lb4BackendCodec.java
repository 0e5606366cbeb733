package org.anetd.agent.datapath;

import static org.anetd.agent.datapath.Layout.field;

import java.nio.ByteBuffer;

/** Mirrors {@code struct lb4_backend} in {@code ebpf/include/lb.h}. */
public final class Lb4BackendCodec implements Codec<Lb4Backend> {
  public static final Lb4BackendCodec INSTANCE = new Lb4BackendCodec();
  static final int ADDRESS = 0; // network order
  static final int PORT = 4; // network order
  static final int PROTO = 6;
  static final int STATE = 7;
  public static final int SIZE = 8;
  private static final Layout LAYOUT = Layout.of("lb4_backend", SIZE,
      field("address", ADDRESS, 4), field("port", PORT, 2), field("proto", PROTO, 1),
      field("state", STATE, 1));

  @Override
  public Layout layout() {
    return LAYOUT;
  }

  @Override
  public byte[] encode(Lb4Backend v) {
    ByteBuffer b = Bytes.writer(SIZE);
    Bytes.putBe32(b, ADDRESS, v.address().bits());
    Bytes.putBe16(b, PORT, v.port());
    Bytes.putU8(b, PROTO, v.protocol().number());
    Bytes.putU8(b, STATE, v.state());
    return b.array();
  }

  @Override
  public Lb4Backend decode(byte[] bytes) {
    ByteBuffer b = Bytes.reader(bytes, LAYOUT);
    return new Lb4Backend(new Ipv4(Bytes.getBe32(b, ADDRESS)), Bytes.getBe16(b, PORT),
        Protocol.of(Bytes.getU8(b, PROTO)), Bytes.getU8(b, STATE));
  }
}
