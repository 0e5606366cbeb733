package org.anetd.agent.datapath;

import static org.anetd.agent.datapath.Layout.field;

import java.nio.ByteBuffer;

/** Mirrors {@code struct ipcache4_value} in {@code ebpf/include/ipcache.h}. */
public final class Ipcache4ValueCodec implements Codec<Ipcache4Value> {
  public static final Ipcache4ValueCodec INSTANCE = new Ipcache4ValueCodec();
  static final int IDENTITY = 0;
  static final int NODE_ADDRESS = 4; // network order
  static final int ENDPOINT_ID = 8;
  static final int PAD = 10;
  public static final int SIZE = 12;
  private static final Layout LAYOUT = Layout.of("ipcache4_value", SIZE,
      field("identity", IDENTITY, 4), field("node_address", NODE_ADDRESS, 4),
      field("endpoint_id", ENDPOINT_ID, 2), field("pad", PAD, 2));

  @Override
  public Layout layout() {
    return LAYOUT;
  }

  @Override
  public byte[] encode(Ipcache4Value v) {
    ByteBuffer b = Bytes.writer(SIZE);
    Bytes.putU32(b, IDENTITY, v.identity());
    Bytes.putBe32(b, NODE_ADDRESS, v.nodeAddress().bits());
    Bytes.putU16(b, ENDPOINT_ID, v.endpointId());
    return b.array();
  }

  @Override
  public Ipcache4Value decode(byte[] bytes) {
    ByteBuffer b = Bytes.reader(bytes, LAYOUT);
    return new Ipcache4Value(Bytes.getU32(b, IDENTITY), new Ipv4(Bytes.getBe32(b, NODE_ADDRESS)),
        Bytes.getU16(b, ENDPOINT_ID));
  }
}
