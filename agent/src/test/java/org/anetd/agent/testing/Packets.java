package org.anetd.agent.testing;

import java.nio.ByteBuffer;
import org.anetd.agent.datapath.Ipv4;

/**
 * Crafted Ethernet/IPv4 frames for BPF_PROG_TEST_RUN. The short forms build fixed frames; {@link
 * Frame4} builds TCP/UDP frames with IP options, sequence numbers, payload and valid checksums.
 */
public final class Packets {
  public static final int TCP_FIN = 0x01;
  public static final int TCP_SYN = 0x02;
  public static final int TCP_RST = 0x04;
  public static final int TCP_PSH = 0x08;
  public static final int TCP_ACK = 0x10;

  /** Source MAC of crafted frames (the pod) and destination MAC (the host veth). */
  public static final byte[] POD_MAC = {2, 0, 0, 0, 0, 1};
  public static final byte[] HOST_MAC = {2, 0, 0, 0, 0, 2};

  private Packets() {}

  /** An Ethernet + IPv4 + UDP frame with {@code payload} bytes of zeros (UDP checksum 0). */
  public static byte[] udp4(String src, int sport, String dst, int dport, int payload) {
    return Frame4.udp(src, sport, dst, dport).payload(payload).noUdpChecksum().build();
  }

  /** An Ethernet + IPv4 + TCP frame with the given flags (0x02 = SYN), seq 1, valid checksum. */
  public static byte[] tcp4(String src, int sport, String dst, int dport, int flags) {
    return Frame4.tcp(src, sport, dst, dport, flags).build();
  }

  /** An Ethernet + IPv4 + ICMP echo request (type 8) or reply (type 0), valid checksums. */
  public static byte[] icmpEcho4(String src, String dst, int type, int id, int seq) {
    int l4Len = 8 + 8;
    ByteBuffer b = ByteBuffer.allocate(14 + 20 + l4Len);
    b.put(HOST_MAC).put(POD_MAC).putShort((short) 0x0800);
    b.put((byte) 0x45).put((byte) 0).putShort((short) (20 + l4Len)).putShort((short) 0x1234)
        .putShort((short) 0x4000).put((byte) 64).put((byte) 1).putShort((short) 0)
        .put(addr(src)).put(addr(dst));
    b.putShort(24, (short) checksum(b.array(), 14, 20));
    int l4 = b.position();
    b.put((byte) type).put((byte) 0).putShort((short) 0).putShort((short) id)
        .putShort((short) seq);
    for (int i = 0; i < 8; i++) {
      b.put((byte) i);
    }
    b.putShort(l4 + 2, (short) checksum(b.array(), l4, l4Len));
    return b.array();
  }

  /** Builder of one IPv4 TCP or UDP frame with valid checksums unless told otherwise. */
  public static final class Frame4 {
    private final String src;
    private final String dst;
    private final int proto;
    private final int sport;
    private final int dport;
    private final int tcpFlags;
    private long seq = 1;
    private long ack;
    private int payload;
    private int ipOptionBytes;
    private boolean udpChecksum = true;

    private Frame4(String src, int sport, String dst, int dport, int proto, int tcpFlags) {
      this.src = src;
      this.sport = sport;
      this.dst = dst;
      this.dport = dport;
      this.proto = proto;
      this.tcpFlags = tcpFlags;
    }

    public static Frame4 tcp(String src, int sport, String dst, int dport, int flags) {
      return new Frame4(src, sport, dst, dport, 6, flags);
    }

    public static Frame4 udp(String src, int sport, String dst, int dport) {
      return new Frame4(src, sport, dst, dport, 17, 0);
    }

    public Frame4 seq(long value) {
      this.seq = value;
      return this;
    }

    public Frame4 ack(long value) {
      this.ack = value;
      return this;
    }

    /** Payload bytes after the L4 header (0x00, 0x01, ... so checksums see real data). */
    public Frame4 payload(int bytes) {
      this.payload = bytes;
      return this;
    }

    /** IP options (NOPs then an end-of-list), a multiple of 4 bytes up to 40. */
    public Frame4 ipOptions(int bytes) {
      if (bytes % 4 != 0 || bytes > 40) {
        throw new IllegalArgumentException("IP options must be a multiple of 4 up to 40");
      }
      this.ipOptionBytes = bytes;
      return this;
    }

    /** UDP checksum 0 ("none"), as RFC 768 allows over IPv4. */
    public Frame4 noUdpChecksum() {
      this.udpChecksum = false;
      return this;
    }

    public byte[] build() {
      int l4Header = proto == 6 ? 20 : 8;
      int l4Len = l4Header + payload;
      int ihl = 20 + ipOptionBytes;
      ByteBuffer b = ByteBuffer.allocate(14 + ihl + l4Len);
      b.put(HOST_MAC).put(POD_MAC).putShort((short) 0x0800);
      b.put((byte) (0x40 | (ihl / 4))).put((byte) 0).putShort((short) (ihl + l4Len))
          .putShort((short) 0x1234).putShort((short) 0x4000).put((byte) 64).put((byte) proto)
          .putShort((short) 0).put(addr(src)).put(addr(dst));
      for (int i = 0; i < ipOptionBytes; i++) {
        b.put((byte) (i == ipOptionBytes - 1 ? 0 : 1)); // NOP ... EOL
      }
      b.putShort(24, (short) checksum(b.array(), 14, ihl));
      int l4 = b.position();
      if (proto == 6) {
        b.putShort((short) sport).putShort((short) dport).putInt((int) seq).putInt((int) ack)
            .put((byte) 0x50).put((byte) tcpFlags).putShort((short) 65535).putShort((short) 0)
            .putShort((short) 0);
      } else {
        b.putShort((short) sport).putShort((short) dport).putShort((short) l4Len)
            .putShort((short) 0);
      }
      for (int i = 0; i < payload; i++) {
        b.put((byte) i);
      }
      byte[] frame = b.array();
      if (proto == 6 || udpChecksum) {
        int sum = l4Checksum(frame, 14 + 12, 14 + 16, proto, l4, l4Len);
        if (proto == 17 && sum == 0) {
          sum = 0xffff;
        }
        ByteBuffer.wrap(frame).putShort(l4 + (proto == 6 ? 16 : 6), (short) sum);
      }
      return frame;
    }
  }

  static byte[] addr(String dotted) {
    String[] p = dotted.split("\\.");
    return new byte[] {(byte) Integer.parseInt(p[0]), (byte) Integer.parseInt(p[1]),
        (byte) Integer.parseInt(p[2]), (byte) Integer.parseInt(p[3])};
  }

  /** The Internet checksum of {@code len} bytes (odd lengths padded with a zero byte). */
  public static int checksum(byte[] data, int off, int len) {
    return fold(sum(data, off, len, 0));
  }

  /** TCP/UDP checksum over the pseudo header (addresses at srcOff/dstOff) and the L4 bytes. */
  static int l4Checksum(byte[] frame, int srcOff, int dstOff, int proto, int l4Off, int l4Len) {
    long s = sum(frame, srcOff, 4, 0);
    s = sum(frame, dstOff, 4, s);
    s += proto + l4Len;
    return fold(sum(frame, l4Off, l4Len, s));
  }

  private static long sum(byte[] data, int off, int len, long sum) {
    for (int i = 0; i < len; i += 2) {
      int hi = data[off + i] & 0xff;
      int lo = i + 1 < len ? data[off + i + 1] & 0xff : 0;
      sum += (hi << 8) | lo;
    }
    return sum;
  }

  private static int fold(long sum) {
    while ((sum >> 16) != 0) {
      sum = (sum & 0xffff) + (sum >> 16);
    }
    return (int) (~sum & 0xffff);
  }

  /** An Ethernet + IPv4 + ICMP error frame quoting {@code len} bytes of {@code quoted}. */
  public static byte[] icmpError(String src, String dst, int type, int code, byte[] quoted,
      int off, int len) {
    ByteBuffer b = ByteBuffer.allocate(14 + 20 + 8 + len);
    b.put(HOST_MAC).put(POD_MAC).putShort((short) 0x0800);
    b.put((byte) 0x45).put((byte) 0xc0).putShort((short) (20 + 8 + len)).putShort((short) 7)
        .putShort((short) 0).put((byte) 64).put((byte) 1).putShort((short) 0)
        .putInt(Ipv4.parse(src).bits()).putInt(Ipv4.parse(dst).bits());
    b.putShort(24, (short) checksum(b.array(), 14, 20));
    b.put((byte) type).put((byte) code).putShort((short) 0).putInt(0);
    b.put(quoted, off, len);
    b.putShort(14 + 20 + 2, (short) checksum(b.array(), 14 + 20, 8 + len));
    return b.array();
  }

  /** The quoted packet of an ICMP error behind an Ethernet header, for PacketView. */
  public static byte[] quoteAsFrame(byte[] frame, int off, int len) {
    byte[] f = new byte[14 + len];
    System.arraycopy(frame, 0, f, 0, 14);
    System.arraycopy(frame, off, f, 14, len);
    return f;
  }

  /** {@code frame} as an IPv4 fragment: IP id, more-fragments flag, offset in 8-byte units. */
  public static byte[] fragment(byte[] frame, int id, boolean more, int offset8) {
    byte[] f = frame.clone();
    ByteBuffer b = ByteBuffer.wrap(f);
    b.putShort(14 + 4, (short) id);
    b.putShort(14 + 6, (short) ((more ? 0x2000 : 0) | offset8));
    b.putShort(14 + 10, (short) 0);
    b.putShort(14 + 10, (short) checksum(f, 14, 20));
    return f;
  }
}
