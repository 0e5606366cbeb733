package org.anetd.agent.datapath;

import static org.anetd.agent.datapath.Layout.field;

import java.nio.ByteBuffer;

/**
 * Mirrors {@code struct snat4_entry} in {@code ebpf/include/snat.h}, the value of
 * {@code anetd_snat4} (its key is a {@code struct ct4_key}, see {@link Ct4KeyCodec}).
 */
public final class Snat4EntryCodec implements Codec<Snat4Entry> {
  public static final Snat4EntryCodec INSTANCE = new Snat4EntryCodec();
  static final int EXPIRES_NS = 0; // host order
  static final int TO_ADDR = 8; // network order
  static final int TO_PORT = 12; // network order
  static final int PAD = 14;
  public static final int SIZE = 16;
  private static final Layout LAYOUT = Layout.of("snat4_entry", SIZE,
      field("expires_ns", EXPIRES_NS, 8), field("to_addr", TO_ADDR, 4),
      field("to_port", TO_PORT, 2), field("pad", PAD, 2));

  @Override
  public Layout layout() {
    return LAYOUT;
  }

  @Override
  public byte[] encode(Snat4Entry e) {
    ByteBuffer b = Bytes.writer(SIZE);
    Bytes.putU64(b, EXPIRES_NS, e.expiresNs());
    Bytes.putBe32(b, TO_ADDR, e.toAddress().bits());
    Bytes.putBe16(b, TO_PORT, e.toPort());
    return b.array();
  }

  @Override
  public Snat4Entry decode(byte[] bytes) {
    ByteBuffer b = Bytes.reader(bytes, LAYOUT);
    return new Snat4Entry(Bytes.getU64(b, EXPIRES_NS), new Ipv4(Bytes.getBe32(b, TO_ADDR)),
        Bytes.getBe16(b, TO_PORT));
  }
}
