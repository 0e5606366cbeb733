package org.anetd.agent.testing;

import java.nio.ByteBuffer;

/** Crafted Ethernet/IPv4 frames for BPF_PROG_TEST_RUN. */
public final class Packets {
  private Packets() {}

  /** An Ethernet + IPv4 + UDP frame with {@code payload} bytes of zeros. */
  public static byte[] udp4(String src, int sport, String dst, int dport, int payload) {
    return ip4(src, dst, 17, udpHeader(sport, dport, payload), payload);
  }

  /** An Ethernet + IPv4 + TCP frame with the given flags (0x02 = SYN). */
  public static byte[] tcp4(String src, int sport, String dst, int dport, int flags) {
    ByteBuffer tcp = ByteBuffer.allocate(20);
    tcp.putShort((short) sport).putShort((short) dport).putInt(1).putInt(0);
    tcp.put((byte) 0x50).put((byte) flags).putShort((short) 65535).putShort((short) 0)
        .putShort((short) 0);
    return ip4(src, dst, 6, tcp.array(), 0);
  }

  private static byte[] udpHeader(int sport, int dport, int payload) {
    ByteBuffer udp = ByteBuffer.allocate(8);
    udp.putShort((short) sport).putShort((short) dport).putShort((short) (8 + payload))
        .putShort((short) 0);
    return udp.array();
  }

  private static byte[] ip4(String src, String dst, int proto, byte[] l4, int payload) {
    int ipLen = 20 + l4.length + payload;
    ByteBuffer b = ByteBuffer.allocate(14 + ipLen);
    b.put(new byte[] {2, 0, 0, 0, 0, 2}).put(new byte[] {2, 0, 0, 0, 0, 1}).putShort((short) 0x0800);
    int ipStart = b.position();
    b.put((byte) 0x45).put((byte) 0).putShort((short) ipLen).putShort((short) 0)
        .putShort((short) 0x4000).put((byte) 64).put((byte) proto).putShort((short) 0)
        .put(addr(src)).put(addr(dst));
    b.putShort(ipStart + 10, (short) checksum(b.array(), ipStart, 20));
    b.put(l4);
    return b.array();
  }

  private static byte[] addr(String dotted) {
    String[] p = dotted.split("\\.");
    return new byte[] {(byte) Integer.parseInt(p[0]), (byte) Integer.parseInt(p[1]),
        (byte) Integer.parseInt(p[2]), (byte) Integer.parseInt(p[3])};
  }

  static int checksum(byte[] data, int off, int len) {
    int sum = 0;
    for (int i = 0; i < len; i += 2) {
      sum += ((data[off + i] & 0xff) << 8) | (data[off + i + 1] & 0xff);
    }
    while ((sum >> 16) != 0) {
      sum = (sum & 0xffff) + (sum >> 16);
    }
    return ~sum & 0xffff;
  }
}
