package org.anetd.agent.testing;

import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * Read-only view of an Ethernet + IPv4 frame as a program left it, with checksum verification
 * recomputed from scratch in Java (the datapath's incremental updates must agree).
 */
public final class PacketView {
  private final byte[] frame;
  private final ByteBuffer b;
  private final int l4;

  private PacketView(byte[] frame) {
    this.frame = frame;
    this.b = ByteBuffer.wrap(frame);
    if ((b.getShort(12) & 0xffff) != 0x0800) {
      throw new AssertionError("not an IPv4 frame: ethertype 0x"
          + Integer.toHexString(b.getShort(12) & 0xffff));
    }
    this.l4 = 14 + ihl();
  }

  public static PacketView of(byte[] frame) {
    return new PacketView(frame);
  }

  /** The whole frame, a copy. */
  public byte[] frame() {
    return frame.clone();
  }

  public byte[] ethDst() {
    return Arrays.copyOfRange(frame, 0, 6);
  }

  public byte[] ethSrc() {
    return Arrays.copyOfRange(frame, 6, 12);
  }

  /** IPv4 header length in bytes. */
  public int ihl() {
    return (frame[14] & 0x0f) * 4;
  }

  public int ipTotalLength() {
    return b.getShort(16) & 0xffff;
  }

  public int tos() {
    return frame[15] & 0xff;
  }

  public int ttl() {
    return frame[22] & 0xff;
  }

  public int proto() {
    return frame[23] & 0xff;
  }

  public String src() {
    return dotted(26);
  }

  public String dst() {
    return dotted(30);
  }

  public int sport() {
    return b.getShort(l4) & 0xffff;
  }

  public int dport() {
    return b.getShort(l4 + 2) & 0xffff;
  }

  public long seq() {
    return b.getInt(l4 + 4) & 0xffffffffL;
  }

  public long ack() {
    return b.getInt(l4 + 8) & 0xffffffffL;
  }

  public int tcpHeaderLength() {
    return ((frame[l4 + 12] & 0xf0) >> 4) * 4;
  }

  public int tcpFlags() {
    return frame[l4 + 13] & 0xff;
  }

  public int udpChecksum() {
    return b.getShort(l4 + 6) & 0xffff;
  }

  public int icmpType() {
    return frame[l4] & 0xff;
  }

  public int icmpCode() {
    return frame[l4 + 1] & 0xff;
  }

  /** Bytes after the ICMP header (the quoted datagram of an error). */
  public byte[] icmpBody() {
    return Arrays.copyOfRange(frame, l4 + 8, 14 + ipTotalLength());
  }

  /** The frame's length as the IPv4 header declares it (Ethernet header included). */
  public int declaredLength() {
    return 14 + ipTotalLength();
  }

  public boolean ipChecksumValid() {
    return Packets.checksum(frame, 14, ihl()) == 0;
  }

  /** TCP/UDP with the pseudo header, ICMP without; a UDP checksum of 0 ("none") is valid. */
  public boolean l4ChecksumValid() {
    int len = ipTotalLength() - ihl();
    return switch (proto()) {
      case 6 -> Packets.l4Checksum(frame, 26, 30, 6, l4, len) == 0;
      case 17 -> udpChecksum() == 0 || Packets.l4Checksum(frame, 26, 30, 17, l4, len) == 0;
      case 1 -> Packets.checksum(frame, l4, len) == 0;
      default -> throw new AssertionError("no checksum for protocol " + proto());
    };
  }

  private String dotted(int off) {
    return (frame[off] & 0xff) + "." + (frame[off + 1] & 0xff) + "." + (frame[off + 2] & 0xff)
        + "." + (frame[off + 3] & 0xff);
  }

  @Override
  public String toString() {
    return String.format("%s:%d > %s:%d proto %d len %d", src(), sport(), dst(), dport(), proto(),
        ipTotalLength());
  }
}
