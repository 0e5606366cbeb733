package org.anetd.agent.datapath;

import static org.anetd.agent.datapath.Layout.field;

import java.nio.ByteBuffer;

/** Mirrors {@code struct lxc4_info} in {@code ebpf/include/lxc.h}. */
public final class Lxc4InfoCodec implements Codec<Lxc4Info> {
  public static final Lxc4InfoCodec INSTANCE = new Lxc4InfoCodec();
  static final int IFINDEX = 0;
  static final int ENDPOINT_ID = 4;
  static final int MAC = 6;
  static final int NODE_MAC = 12;
  static final int PAD = 18;
  public static final int SIZE = 20;
  private static final int MAC_LEN = 6;
  private static final Layout LAYOUT = Layout.of("lxc4_info", SIZE,
      field("ifindex", IFINDEX, 4), field("endpoint_id", ENDPOINT_ID, 2),
      field("mac", MAC, MAC_LEN), field("node_mac", NODE_MAC, MAC_LEN), field("pad", PAD, 2));

  @Override
  public Layout layout() {
    return LAYOUT;
  }

  @Override
  public byte[] encode(Lxc4Info v) {
    ByteBuffer b = Bytes.writer(SIZE);
    Bytes.putU32(b, IFINDEX, v.ifindex());
    Bytes.putU16(b, ENDPOINT_ID, v.endpointId());
    b.put(MAC, Lxc4Info.bytes(v.mac()));
    b.put(NODE_MAC, Lxc4Info.bytes(v.nodeMac()));
    return b.array();
  }

  @Override
  public Lxc4Info decode(byte[] bytes) {
    ByteBuffer b = Bytes.reader(bytes, LAYOUT);
    byte[] mac = new byte[MAC_LEN];
    byte[] nodeMac = new byte[MAC_LEN];
    b.get(MAC, mac);
    b.get(NODE_MAC, nodeMac);
    return new Lxc4Info((int) Bytes.getU32(b, IFINDEX), Bytes.getU16(b, ENDPOINT_ID),
        Lxc4Info.text(mac), Lxc4Info.text(nodeMac));
  }
}
