package org.anetd.agent.datapath;

import static org.anetd.agent.datapath.Layout.field;

import java.nio.ByteBuffer;

/** Mirrors {@code struct ipcache4_key} in {@code ebpf/include/ipcache.h}. */
public final class Ipcache4KeyCodec implements Codec<Ipcache4Key> {
  public static final Ipcache4KeyCodec INSTANCE = new Ipcache4KeyCodec();
  static final int PREFIXLEN = 0; // host order, as the LPM trie wants
  static final int ADDRESS = 4; // network order
  public static final int SIZE = 8;
  private static final Layout LAYOUT = Layout.of("ipcache4_key", SIZE,
      field("prefixlen", PREFIXLEN, 4), field("address", ADDRESS, 4));

  @Override
  public Layout layout() {
    return LAYOUT;
  }

  @Override
  public byte[] encode(Ipcache4Key k) {
    ByteBuffer b = Bytes.writer(SIZE);
    Bytes.putU32(b, PREFIXLEN, k.prefixLength());
    Bytes.putBe32(b, ADDRESS, k.address().bits());
    return b.array();
  }

  @Override
  public Ipcache4Key decode(byte[] bytes) {
    ByteBuffer b = Bytes.reader(bytes, LAYOUT);
    return new Ipcache4Key((int) Bytes.getU32(b, PREFIXLEN), new Ipv4(Bytes.getBe32(b, ADDRESS)));
  }
}
