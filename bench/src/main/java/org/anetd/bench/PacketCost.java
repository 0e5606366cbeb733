package org.anetd.bench;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.anetd.agent.bpf.BpfProgram;
import org.anetd.agent.datapath.Ipv4;

/**
 * The cost of from_container per packet, in the kernel, without the noise of real traffic:
 * BPF_PROG_TEST_RUN on crafted frames (Ethernet + IPv4 + TCP, valid checksums), against the live
 * maps of a node. Three packet kinds: the SYN of a new service connection (fresh source port each
 * run: frontend, slot and backend lookups, two conntrack inserts, DNAT), a packet of an
 * established service connection (conntrack hit, DNAT) and a packet to a pod IP (what the
 * direct-lxc traffic pays: conntrack and frontend misses).
 */
final class PacketCost {
  private static final String SRC = "198.18.0.99"; // not a live pod: its tuples are its own
  private int nextPort = 1024;

  /** Mean ns per packet: {new service connection, established, non-service}. */
  double[] measure(BpfProgram fromContainer, Ipv4 vip, int vport, String podIp, int podPort) {
    List<Double> fresh = new ArrayList<>();
    for (int i = 0; i < 2000; i++) {
      int sport = nextPort();
      fresh.add((double) fromContainer.testRun(tcp4(SRC, sport, vip.toString(), vport, 0x02), 1)
          .durationNs());
    }
    int sport = nextPort();
    BpfProgram.TestRun syn = fromContainer.testRun(tcp4(SRC, sport, vip.toString(), vport, 0x02),
        1);
    int dst = ByteBuffer.wrap(syn.dataOut()).getInt(30);
    if (dst == vip.bits()) { // the test runs must take the service path, or they measure nothing
      throw new IllegalStateException("from_container did not translate a SYN to " + vip
          + " (retval " + syn.retval() + ")");
    }
    double established = fromContainer.testRun(tcp4(SRC, sport, vip.toString(), vport, 0x10),
        200_000).durationNs();
    double direct = fromContainer.testRun(tcp4(SRC, nextPort(), podIp, podPort, 0x10), 200_000)
        .durationNs();
    return new double[] {ServiceBench.median(fresh), established, direct};
  }

  private int nextPort() {
    nextPort = nextPort >= 65535 ? 1024 : nextPort + 1;
    return nextPort;
  }

  /** Ethernet + IPv4 + TCP frame, seq 1, valid checksums (as the agent tests' Packets.tcp4). */
  static byte[] tcp4(String src, int sport, String dst, int dport, int flags) {
    ByteBuffer b = ByteBuffer.allocate(14 + 20 + 20);
    b.put(new byte[] {2, 0, 0, 0, 0, 2}).put(new byte[] {2, 0, 0, 0, 0, 1})
        .putShort((short) 0x0800);
    b.put((byte) 0x45).put((byte) 0).putShort((short) 40).putShort((short) 0x1234)
        .putShort((short) 0x4000).put((byte) 64).put((byte) 6).putShort((short) 0)
        .putInt(Ipv4.parse(src).bits()).putInt(Ipv4.parse(dst).bits());
    b.putShort(24, (short) fold(sum(b.array(), 14, 20, 0)));
    b.putShort((short) sport).putShort((short) dport).putInt(1).putInt(0).put((byte) 0x50)
        .put((byte) flags).putShort((short) 65535).putShort((short) 0).putShort((short) 0);
    byte[] f = b.array();
    long s = sum(f, 26, 8, 0) + 6 + 20;
    ByteBuffer.wrap(f).putShort(14 + 20 + 16, (short) fold(sum(f, 34, 20, s)));
    return f;
  }

  private static long sum(byte[] d, int off, int len, long sum) {
    for (int i = 0; i < len; i += 2) {
      sum += ((d[off + i] & 0xff) << 8) | (i + 1 < len ? d[off + i + 1] & 0xff : 0);
    }
    return sum;
  }

  private static int fold(long sum) {
    while ((sum >> 16) != 0) {
      sum = (sum & 0xffff) + (sum >> 16);
    }
    return (int) (~sum & 0xffff);
  }
}
