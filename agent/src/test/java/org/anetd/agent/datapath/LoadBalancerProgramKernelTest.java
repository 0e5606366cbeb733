package org.anetd.agent.datapath;

import static org.anetd.agent.testing.Packets.TCP_ACK;
import static org.anetd.agent.testing.Packets.TCP_FIN;
import static org.anetd.agent.testing.Packets.TCP_PSH;
import static org.anetd.agent.testing.Packets.TCP_RST;
import static org.anetd.agent.testing.Packets.TCP_SYN;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.anetd.agent.bpf.BpfObject;
import org.anetd.agent.bpf.BpfProgram;
import org.anetd.agent.testing.EbpfObjects;
import org.anetd.agent.testing.KernelTest;
import org.anetd.agent.testing.NetnsLab;
import org.anetd.agent.testing.PacketView;
import org.anetd.agent.testing.Packets;
import org.anetd.agent.testing.Packets.Frame4;
import org.junit.jupiter.api.Test;

/**
 * from_container on crafted frames (BPF_PROG_TEST_RUN): service DNAT, reply SNAT, refusal of
 * services without backends, affinity, hairpin and conntrack. Checksums are recomputed in Java.
 *
 * <pre>
 *   client pod 198.18.0.2 --eth0==veth==host veth [tc ingress: from_container]
 *                                                   |
 *      ClusterIP 198.19.0.10:80/TCP  --DNAT-->  backend 1  198.18.0.3:8080
 *      ClusterIP 198.19.0.10:53/UDP             backend 2  198.18.0.4:8080
 *      (rev NAT 7 / 8)                          backend 3  198.18.0.2:8080 (the client itself)
 *   replies: backend --from_container of its veth--> SNAT to the ClusterIP --> client
 * </pre>
 */
@KernelTest
class LoadBalancerProgramKernelTest {
  private static final int TC_ACT_OK = 0;
  private static final int TC_ACT_SHOT = 2;
  private static final int TC_ACT_REDIRECT = 7;
  private static final long SECOND = 1_000_000_000L;

  private static final String CLIENT = "198.18.0.2";
  private static final String BACKEND1 = "198.18.0.3";
  private static final String BACKEND2 = "198.18.0.4";
  private static final String VIP = "198.19.0.10";
  private static final String HAIRPIN = "169.254.42.1";
  private static final int TCP_REV_NAT = 7;
  private static final int UDP_REV_NAT = 8;

  private BpfObject lxc;
  private BpfProgram fromContainer;
  private ServiceMaps maps;

  private void load(NetnsLab lab) {
    load(lab, null);
  }

  private void load(NetnsLab lab, String hairpin) {
    lxc = BpfObject.openFile(EbpfObjects.path("bpf_lxc.o"));
    lab.onClose(lxc::close);
    if (hairpin != null) {
      lxc.setRodataU32("hairpin_ipv4", Ipv4.parse(hairpin).bits());
    }
    lxc.pinMapsUnder(lab.bpffsDir("lb")).load();
    fromContainer = lxc.program("from_container");
    maps = new ServiceMaps(lxc);
    maps.backend(1, BACKEND1, 8080, Protocol.TCP);
    maps.backend(2, BACKEND2, 8080, Protocol.TCP);
    maps.backend(3, CLIENT, 8080, Protocol.TCP);
    maps.backend(11, BACKEND1, 5353, Protocol.UDP);
    maps.backend(12, BACKEND2, 5353, Protocol.UDP);
  }

  private BpfProgram.TestRun run(byte[] frame) {
    return fromContainer.testRun(frame, 1);
  }

  private PacketView send(byte[] frame) {
    BpfProgram.TestRun r = run(frame);
    assertThat(r.retval()).as("verdict").isEqualTo(TC_ACT_OK);
    return PacketView.of(r.dataOut());
  }

  private static Lb4Key tcpFrontend() {
    return new Lb4Key(Ipv4.parse(VIP), 80, Protocol.TCP, Lb4Key.SCOPE_EXTERNAL, 0);
  }

  private static Ct4Key forwardKey(String client, int sport, Protocol p) {
    int vport = p == Protocol.TCP ? 80 : 53;
    return new Ct4Key(Ipv4.parse(VIP), Ipv4.parse(client), vport, sport, p, Ct4Key.F_SERVICE);
  }

  private static Ct4Key replyKey(String client, int sport, String backend, int bport, Protocol p) {
    return new Ct4Key(Ipv4.parse(client), Ipv4.parse(backend), sport, bport, p, Ct4Key.F_REPLY);
  }

  private static void assertChecksumsValid(PacketView v) {
    assertThat(v.ipChecksumValid()).as("IPv4 header checksum of %s", v).isTrue();
    assertThat(v.l4ChecksumValid()).as("L4 checksum of %s", v).isTrue();
  }

  private static void assertExpiresIn(Ct4Entry e, long seconds) {
    long left = e.expiresNs() - System.nanoTime();
    assertThat(left).as("lifetime left (ns)").isBetween((seconds - 5) * SECOND, seconds * SECOND);
  }

  @Test
  void lb_0_aSynRetriedOnceItsFrontendExistsIsTranslatedAndSoIsTheRestOfItsConnection(
      NetnsLab lab) {
    load(lab);
    // the client is a local endpoint: its policy entry tracks the connection from the first SYN
    lxc.map(Datapath.IPCACHE4).update(
        Ipcache4KeyCodec.INSTANCE.encode(Ipcache4Key.host(Ipv4.parse(CLIENT))),
        Ipcache4ValueCodec.INSTANCE.encode(new Ipcache4Value(1001, Ipv4.ANY, 1)));

    PacketView early = send(Frame4.tcp(CLIENT, 40100, VIP, 80, TCP_SYN).seq(1).build());
    maps.frontend(VIP, 80, Protocol.TCP, TCP_REV_NAT, 1); // the agent catches up
    PacketView retried = send(Frame4.tcp(CLIENT, 40100, VIP, 80, TCP_SYN).seq(1).build());
    PacketView ack = send(Frame4.tcp(CLIENT, 40100, VIP, 80, TCP_ACK).seq(2).build());

    assertThat(early.dst()).as("no frontend yet: untouched").isEqualTo(VIP);
    assertThat(retried.dst()).isEqualTo(BACKEND1);
    assertThat(ack.dst()).as("the connection's next packet").isEqualTo(BACKEND1);
    Ct4Entry policy = maps.conntrack(new Ct4Key(Ipv4.parse(VIP), Ipv4.parse(CLIENT), 80, 40100,
        Protocol.TCP, Ct4Key.F_POL_TX)).orElseThrow();
    assertThat(policy.flags() & Ct4Entry.F_NO_XLATE).as("no fast path for it").isZero();
  }

  @Test
  void lb_1_clusterIpSynIsDnatedToTheOnlyBackend(NetnsLab lab) {
    load(lab);
    maps.frontend(VIP, 80, Protocol.TCP, TCP_REV_NAT, 1);

    PacketView out = send(Frame4.tcp(CLIENT, 40001, VIP, 80, TCP_SYN).seq(1000).build());

    assertThat(out.dst()).isEqualTo(BACKEND1);
    assertThat(out.dport()).isEqualTo(8080);
    assertThat(out.src()).isEqualTo(CLIENT);
    assertThat(out.sport()).isEqualTo(40001);
    assertThat(out.seq()).isEqualTo(1000);
    assertChecksumsValid(out);
    Ct4Entry fwd = maps.conntrack(forwardKey(CLIENT, 40001, Protocol.TCP)).orElseThrow();
    assertThat(fwd.backendId()).isEqualTo(1);
    assertThat(fwd.revNatId()).isEqualTo(TCP_REV_NAT);
    assertThat(fwd.natAddress()).isEqualTo(Ipv4.parse(BACKEND1));
    assertThat(fwd.natPort()).isEqualTo(8080);
    assertThat(fwd.packets()).isEqualTo(1);
    assertExpiresIn(fwd, 60);
    Ct4Entry reply = maps.conntrack(replyKey(CLIENT, 40001, BACKEND1, 8080, Protocol.TCP))
        .orElseThrow();
    assertThat(reply.revNatId()).isEqualTo(TCP_REV_NAT);
    assertThat(reply.backendId()).isEqualTo(1);
    assertThat(reply.natAddress()).isEqualTo(Ipv4.parse(CLIENT));
    assertThat(maps.packets(MetricsKey.REASON_FORWARDED, MetricsKey.DIR_EGRESS)).isEqualTo(1);
  }

  @Test
  void lb_2_replyFromTheBackendIsSnatedBackToTheVip(NetnsLab lab) {
    load(lab);
    maps.frontend(VIP, 80, Protocol.TCP, TCP_REV_NAT, 1);
    send(Frame4.tcp(CLIENT, 40002, VIP, 80, TCP_SYN).seq(1000).build());

    PacketView synAck = send(Frame4.tcp(BACKEND1, 8080, CLIENT, 40002, TCP_SYN | TCP_ACK)
        .seq(5000).ack(1001).build());

    assertThat(synAck.src()).isEqualTo(VIP);
    assertThat(synAck.sport()).isEqualTo(80);
    assertThat(synAck.dst()).isEqualTo(CLIENT);
    assertThat(synAck.dport()).isEqualTo(40002);
    assertThat(synAck.ack()).isEqualTo(1001);
    assertChecksumsValid(synAck);
    Ct4Entry fwd = maps.conntrack(forwardKey(CLIENT, 40002, Protocol.TCP)).orElseThrow();
    assertThat(fwd.flags() & Ct4Entry.F_SEEN_REPLY).isNotZero();
    assertExpiresIn(fwd, 21600);
    Ct4Entry reply = maps.conntrack(replyKey(CLIENT, 40002, BACKEND1, 8080, Protocol.TCP))
        .orElseThrow();
    assertThat(reply.packets()).isEqualTo(1);
    assertThat(reply.expiresNs()).isEqualTo(fwd.expiresNs());
  }

  @Test
  void lb_3_laterPacketsOfAConnectionKeepTheirBackend(NetnsLab lab) {
    load(lab);
    maps.frontend(VIP, 80, Protocol.TCP, TCP_REV_NAT, 1, 2);
    String backend = send(Frame4.tcp(CLIENT, 40003, VIP, 80, TCP_SYN).build()).dst();

    for (int i = 0; i < 16; i++) {
      PacketView out = send(Frame4.tcp(CLIENT, 40003, VIP, 80, TCP_ACK | TCP_PSH).seq(2 + i)
          .payload(10).build());
      assertThat(out.dst()).isEqualTo(backend);
      assertChecksumsValid(out);
    }

    Ct4Entry fwd = maps.conntrack(forwardKey(CLIENT, 40003, Protocol.TCP)).orElseThrow();
    assertThat(fwd.packets()).isEqualTo(17);
    assertThat(fwd.bytes()).isEqualTo(54 + 16 * 64);
  }

  @Test
  void lb_4_ipOptionsAndAnOddPayloadKeepChecksumsValid(NetnsLab lab) {
    load(lab);
    maps.frontend(VIP, 80, Protocol.TCP, TCP_REV_NAT, 2);

    PacketView out = send(Frame4.tcp(CLIENT, 40004, VIP, 80, TCP_ACK | TCP_PSH).ipOptions(8)
        .payload(33).build());

    assertThat(out.ihl()).isEqualTo(28);
    assertThat(out.dst()).isEqualTo(BACKEND2);
    assertThat(out.dport()).isEqualTo(8080);
    assertChecksumsValid(out);
  }

  @Test
  void lb_5_udpDatagramIsDnatedAndAZeroChecksumStaysZero(NetnsLab lab) {
    load(lab);
    maps.frontend(VIP, 53, Protocol.UDP, UDP_REV_NAT, 11);

    PacketView summed = send(Frame4.udp(CLIENT, 40005, VIP, 53).payload(21).build());
    PacketView none = send(Frame4.udp(CLIENT, 40006, VIP, 53).payload(21).noUdpChecksum().build());

    assertThat(summed.dst()).isEqualTo(BACKEND1);
    assertThat(summed.dport()).isEqualTo(5353);
    assertThat(summed.udpChecksum()).isNotZero();
    assertChecksumsValid(summed);
    assertThat(none.dst()).isEqualTo(BACKEND1);
    assertThat(none.udpChecksum()).isZero();
    assertThat(none.ipChecksumValid()).isTrue();
    Ct4Entry fwd = maps.conntrack(forwardKey(CLIENT, 40005, Protocol.UDP)).orElseThrow();
    assertThat(fwd.backendId()).isEqualTo(11);
    assertExpiresIn(fwd, 60);
    PacketView reply = send(Frame4.udp(BACKEND1, 5353, CLIENT, 40005).payload(3).build());
    assertThat(reply.src()).isEqualTo(VIP);
    assertThat(reply.sport()).isEqualTo(53);
    assertChecksumsValid(reply);
  }

  @Test
  void lb_6_synToAServiceWithoutBackendsIsAnsweredWithARst(NetnsLab lab) {
    load(lab);
    maps.frontend(VIP, 80, Protocol.TCP, TCP_REV_NAT);

    BpfProgram.TestRun r = run(Frame4.tcp(CLIENT, 40007, VIP, 80, TCP_SYN).seq(1000).ipOptions(4)
        .build());

    assertThat(r.retval()).isEqualTo(TC_ACT_REDIRECT);
    PacketView rst = PacketView.of(r.dataOut());
    assertThat(r.dataOut()).hasSize(54);
    assertThat(rst.ethDst()).isEqualTo(Packets.POD_MAC);
    assertThat(rst.ethSrc()).isEqualTo(Packets.HOST_MAC);
    assertThat(rst.ihl()).isEqualTo(20);
    assertThat(rst.ipTotalLength()).isEqualTo(40);
    assertThat(rst.src()).isEqualTo(VIP);
    assertThat(rst.dst()).isEqualTo(CLIENT);
    assertThat(rst.sport()).isEqualTo(80);
    assertThat(rst.dport()).isEqualTo(40007);
    assertThat(rst.tcpFlags()).isEqualTo(TCP_RST | TCP_ACK);
    assertThat(rst.seq()).isZero();
    assertThat(rst.ack()).isEqualTo(1001);
    assertThat(rst.tcpHeaderLength()).isEqualTo(20);
    assertChecksumsValid(rst);
    assertThat(maps.packets(MetricsKey.REASON_NO_SERVICE_BACKEND, MetricsKey.DIR_EGRESS))
        .isEqualTo(1);
    assertThat(maps.conntrack(Protocol.TCP)).isEmpty();

    // A segment carrying an ACK gets RST with seq = its ack, as a closed port answers.
    PacketView rst2 = PacketView.of(run(Frame4.tcp(CLIENT, 40008, VIP, 80, TCP_ACK | TCP_PSH)
        .seq(77).ack(123456).payload(5).build()).dataOut());
    assertThat(rst2.tcpFlags()).isEqualTo(TCP_RST);
    assertThat(rst2.seq()).isEqualTo(123456);
    assertChecksumsValid(rst2);
    // and a RST is never answered
    assertThat(run(Frame4.tcp(CLIENT, 40009, VIP, 80, TCP_RST).build()).retval())
        .isEqualTo(TC_ACT_SHOT);
  }

  @Test
  void lb_7_udpToAServiceWithoutBackendsIsAnsweredWithPortUnreachable(NetnsLab lab) {
    load(lab);
    maps.frontend(new Lb4Key(Ipv4.parse(VIP), 53, Protocol.UDP, Lb4Key.SCOPE_EXTERNAL, 0),
        UDP_REV_NAT, Lb4Service.F_NO_BACKENDS, 0, 11); // flagged: even a slot is ignored
    byte[] datagram = Frame4.udp(CLIENT, 40010, VIP, 53).payload(100).build();

    BpfProgram.TestRun r = run(datagram);

    assertThat(r.retval()).isEqualTo(TC_ACT_REDIRECT);
    PacketView icmp = PacketView.of(r.dataOut());
    assertThat(r.dataOut()).hasSize(14 + 20 + 8 + 28);
    assertThat(icmp.proto()).isEqualTo(1);
    assertThat(icmp.src()).isEqualTo(VIP);
    assertThat(icmp.dst()).isEqualTo(CLIENT);
    assertThat(icmp.ethDst()).isEqualTo(Packets.POD_MAC);
    assertThat(icmp.icmpType()).isEqualTo(3);
    assertThat(icmp.icmpCode()).isEqualTo(3);
    assertThat(icmp.icmpBody()).as("original IPv4 header + 8 bytes")
        .isEqualTo(Arrays.copyOfRange(datagram, 14, 14 + 28));
    assertChecksumsValid(icmp);
    assertThat(maps.packets(MetricsKey.REASON_NO_SERVICE_BACKEND, MetricsKey.DIR_EGRESS))
        .isEqualTo(1);
  }

  @Test
  void lb_8_affinityKeepsAClientOnItsBackendUntilTheTimeout(NetnsLab lab) {
    load(lab);
    maps.frontend(tcpFrontend(), TCP_REV_NAT, Lb4Service.F_AFFINITY, 1, 1, 2);
    String first = send(Frame4.tcp(CLIENT, 41000, VIP, 80, TCP_SYN).build()).dst();
    Lb4AffinityValue stuck = maps.affinity(CLIENT, TCP_REV_NAT).orElseThrow();
    assertThat(stuck.backendId()).isEqualTo(first.equals(BACKEND1) ? 1 : 2);

    for (int port = 41001; port <= 41016; port++) {
      assertThat(send(Frame4.tcp(CLIENT, port, VIP, 80, TCP_SYN).build()).dst())
          .as("new connection within the timeout").isEqualTo(first);
    }

    Lb4AffinityValue last = maps.affinity(CLIENT, TCP_REV_NAT).orElseThrow();
    await().atMost(Duration.ofSeconds(3)).pollInterval(Duration.ofMillis(50))
        .until(() -> System.nanoTime() - last.lastUsedNs() > SECOND);
    // Expired: each new connection is a fresh random pick (and refreshes the affinity). The
    // entry is put back to its expired state before each try, so the other backend must show up.
    Set<String> picked = new HashSet<>();
    for (int port = 42000; port < 42032 && picked.size() < 2; port++) {
      maps.affinity(CLIENT, TCP_REV_NAT, last);
      String dst = send(Frame4.tcp(CLIENT, port, VIP, 80, TCP_SYN).build()).dst();
      picked.add(dst);
      Lb4AffinityValue now = maps.affinity(CLIENT, TCP_REV_NAT).orElseThrow();
      assertThat(now.backendId()).isEqualTo(dst.equals(BACKEND1) ? 1 : 2);
      assertThat(now.lastUsedNs()).isGreaterThan(last.lastUsedNs());
    }
    assertThat(picked).containsExactlyInAnyOrder(BACKEND1, BACKEND2);
  }

  @Test
  void lb_9_affinityToABackendNoLongerInTheSlotsIsIgnored(NetnsLab lab) {
    load(lab);
    maps.frontend(tcpFrontend(), TCP_REV_NAT, Lb4Service.F_AFFINITY, 600, 1);
    maps.affinity(CLIENT, TCP_REV_NAT, new Lb4AffinityValue(System.nanoTime(), 2));

    PacketView out = send(Frame4.tcp(CLIENT, 41100, VIP, 80, TCP_SYN).build());

    assertThat(out.dst()).isEqualTo(BACKEND1);
    assertThat(maps.affinity(CLIENT, TCP_REV_NAT).orElseThrow().backendId()).isEqualTo(1);
  }

  @Test
  void lb_10_nonServiceTrafficPassesUntouched(NetnsLab lab) {
    load(lab);
    maps.frontend(VIP, 80, Protocol.TCP, TCP_REV_NAT, 1);
    byte[] podToPod = Frame4.tcp(CLIENT, 40011, BACKEND1, 8080, TCP_SYN).build();
    byte[] otherPort = Frame4.udp(CLIENT, 40012, VIP, 81).payload(9).build();
    byte[] arp = arpRequest();
    byte[] laterFragment = Frame4.udp(CLIENT, 40013, VIP, 80).payload(16).build();
    ByteBuffer.wrap(laterFragment).putShort(20, (short) 0x0010); // offset 128 bytes, no DF

    for (byte[] frame : new byte[][] {podToPod, otherPort, arp, laterFragment}) {
      BpfProgram.TestRun r = run(frame);
      assertThat(r.retval()).isEqualTo(TC_ACT_OK);
      assertThat(r.dataOut()).isEqualTo(frame);
    }
    assertThat(maps.conntrack(Protocol.TCP)).isEmpty();
    assertThat(maps.conntrack(Protocol.UDP)).isEmpty();
    assertThat(maps.packets(MetricsKey.REASON_FORWARDED, MetricsKey.DIR_EGRESS)).isEqualTo(4);
  }

  @Test
  void lb_11_malformedIpv4IsDroppedAndCounted(NetnsLab lab) {
    load(lab);
    byte[] shortIhl = Frame4.tcp(CLIENT, 40014, VIP, 80, TCP_SYN).build();
    shortIhl[14] = 0x44;
    byte[] longerThanFrame = Frame4.udp(CLIENT, 40015, VIP, 53).build();
    ByteBuffer.wrap(longerThanFrame).putShort(16, (short) 200);
    byte[] truncatedTcp = Arrays.copyOf(Frame4.tcp(CLIENT, 40016, VIP, 80, TCP_SYN).build(), 44);
    ByteBuffer.wrap(truncatedTcp).putShort(16, (short) 30);

    for (byte[] frame : new byte[][] {shortIhl, longerThanFrame, truncatedTcp}) {
      assertThat(run(frame).retval()).isEqualTo(TC_ACT_SHOT);
    }
    assertThat(maps.packets(MetricsKey.REASON_MALFORMED, MetricsKey.DIR_EGRESS)).isEqualTo(3);
  }

  @Test
  void lb_12_hairpinConnectionIsSnatedToTheHairpinAddressAndBack(NetnsLab lab) {
    load(lab);
    maps.frontend(VIP, 80, Protocol.TCP, TCP_REV_NAT, 3);

    PacketView syn = send(Frame4.tcp(CLIENT, 40017, VIP, 80, TCP_SYN).seq(10).build());

    assertThat(syn.src()).isEqualTo(HAIRPIN);
    assertThat(syn.sport()).isEqualTo(40017);
    assertThat(syn.dst()).isEqualTo(CLIENT);
    assertThat(syn.dport()).isEqualTo(8080);
    assertChecksumsValid(syn);
    Ct4Entry fwd = maps.conntrack(forwardKey(CLIENT, 40017, Protocol.TCP)).orElseThrow();
    assertThat(fwd.flags() & Ct4Entry.F_SNAT).isNotZero();
    Ct4Key replyKey = replyKey(HAIRPIN, 40017, CLIENT, 8080, Protocol.TCP);
    assertThat(maps.conntrack(replyKey).orElseThrow().natAddress()).isEqualTo(Ipv4.parse(CLIENT));

    PacketView synAck = send(Frame4.tcp(CLIENT, 8080, HAIRPIN, 40017, TCP_SYN | TCP_ACK)
        .ack(11).build());

    assertThat(synAck.src()).isEqualTo(VIP);
    assertThat(synAck.sport()).isEqualTo(80);
    assertThat(synAck.dst()).isEqualTo(CLIENT);
    assertThat(synAck.dport()).isEqualTo(40017);
    assertChecksumsValid(synAck);

    for (int i = 0; i < 5; i++) { // the rest of the connection reuses the same two entries
      assertThat(send(Frame4.tcp(CLIENT, 40017, VIP, 80, TCP_ACK).build()).src())
          .isEqualTo(HAIRPIN);
      assertThat(send(Frame4.tcp(CLIENT, 8080, HAIRPIN, 40017, TCP_ACK).build()).src())
          .isEqualTo(VIP);
    }
    assertThat(maps.conntrack(Protocol.TCP)).hasSize(2);
  }

  @Test
  void lb_13_hairpinAddressIsATunable(NetnsLab lab) {
    load(lab, "169.254.99.7");
    maps.frontend(VIP, 80, Protocol.TCP, TCP_REV_NAT, 3);

    PacketView syn = send(Frame4.tcp(CLIENT, 40018, VIP, 80, TCP_SYN).build());

    assertThat(syn.src()).isEqualTo("169.254.99.7");
    assertChecksumsValid(syn);
  }

  @Test
  void lb_14_udpFlowWhoseBackendVanishedMovesToALiveBackend(NetnsLab lab) {
    load(lab);
    maps.frontend(VIP, 53, Protocol.UDP, UDP_REV_NAT, 11);
    assertThat(send(Frame4.udp(CLIENT, 40019, VIP, 53).build()).dst()).isEqualTo(BACKEND1);

    // The agent replaces backend 11 by 12: slots first, then the backend goes (no CT purge
    // here, so the datapath's own re-selection is what moves the flow).
    maps.frontend(VIP, 53, Protocol.UDP, UDP_REV_NAT, 12);
    maps.deleteBackend(11);
    PacketView next = send(Frame4.udp(CLIENT, 40019, VIP, 53).build());

    assertThat(next.dst()).isEqualTo(BACKEND2);
    assertThat(next.dport()).isEqualTo(5353);
    assertChecksumsValid(next);
    Map<Ct4Key, Ct4Entry> ct = maps.conntrack(Protocol.UDP);
    assertThat(ct).hasSize(2).containsKey(replyKey(CLIENT, 40019, BACKEND2, 5353, Protocol.UDP));
    assertThat(ct.values()).allSatisfy(e -> assertThat(e.backendId()).isEqualTo(12));
  }

  @Test
  void lb_15_tcpSegmentOfAConnectionWhoseBackendVanishedIsDropped(NetnsLab lab) {
    load(lab);
    maps.frontend(VIP, 80, Protocol.TCP, TCP_REV_NAT, 1);
    send(Frame4.tcp(CLIENT, 40020, VIP, 80, TCP_SYN).build());
    maps.frontend(VIP, 80, Protocol.TCP, TCP_REV_NAT, 2);
    maps.deleteBackend(1);

    assertThat(run(Frame4.tcp(CLIENT, 40020, VIP, 80, TCP_ACK).build()).retval())
        .isEqualTo(TC_ACT_SHOT);
    assertThat(maps.packets(MetricsKey.REASON_STALE_SERVICE_CONNECTION, MetricsKey.DIR_EGRESS))
        .isEqualTo(1);
    // a new SYN on the same tuple opens a new connection to a live backend
    assertThat(send(Frame4.tcp(CLIENT, 40020, VIP, 80, TCP_SYN).build()).dst())
        .isEqualTo(BACKEND2);
    assertThat(maps.conntrack(Protocol.TCP)).hasSize(2);
  }

  @Test
  void lb_16_tcpLifetimeFollowsTheConnectionState(NetnsLab lab) {
    load(lab);
    maps.frontend(VIP, 80, Protocol.TCP, TCP_REV_NAT, 1);
    Ct4Key fwd = forwardKey(CLIENT, 40021, Protocol.TCP);
    Ct4Key rep = replyKey(CLIENT, 40021, BACKEND1, 8080, Protocol.TCP);

    send(Frame4.tcp(CLIENT, 40021, VIP, 80, TCP_SYN).build());
    assertExpiresIn(maps.conntrack(fwd).orElseThrow(), 60);
    send(Frame4.tcp(BACKEND1, 8080, CLIENT, 40021, TCP_SYN | TCP_ACK).build());
    assertExpiresIn(maps.conntrack(fwd).orElseThrow(), 21600);
    send(Frame4.tcp(CLIENT, 40021, VIP, 80, TCP_FIN | TCP_ACK).build());
    assertExpiresIn(maps.conntrack(fwd).orElseThrow(), 21600); // half-closed: still open
    send(Frame4.tcp(BACKEND1, 8080, CLIENT, 40021, TCP_FIN | TCP_ACK).build());
    assertExpiresIn(maps.conntrack(fwd).orElseThrow(), 10);
    assertExpiresIn(maps.conntrack(rep).orElseThrow(), 10);

    // A RST closes at once; a SYN reusing the closed tuple starts over with the SYN lifetime.
    Ct4Key fwd2 = forwardKey(CLIENT, 40022, Protocol.TCP);
    send(Frame4.tcp(CLIENT, 40022, VIP, 80, TCP_SYN).build());
    send(Frame4.tcp(BACKEND1, 8080, CLIENT, 40022, TCP_SYN | TCP_ACK).build());
    send(Frame4.tcp(BACKEND1, 8080, CLIENT, 40022, TCP_RST).build());
    assertExpiresIn(maps.conntrack(fwd2).orElseThrow(), 10);
    send(Frame4.tcp(CLIENT, 40022, VIP, 80, TCP_SYN).build());
    Ct4Entry reopened = maps.conntrack(fwd2).orElseThrow();
    assertExpiresIn(reopened, 60);
    assertThat(reopened.flags() & (Ct4Entry.F_TX_CLOSING | Ct4Entry.F_RX_CLOSING)).isZero();
  }

  @Test
  void lb_17_expiredEntryIsTreatedAsANewConnection(NetnsLab lab) {
    load(lab);
    maps.frontend(VIP, 80, Protocol.TCP, TCP_REV_NAT, 1);
    Ct4Key fwd = forwardKey(CLIENT, 40023, Protocol.TCP);
    Ct4Key staleReply = replyKey(CLIENT, 40023, BACKEND2, 8080, Protocol.TCP);
    long past = System.nanoTime() - SECOND;
    maps.conntrack(fwd, new Ct4Entry(past, 5, 500, 2, Ipv4.parse(BACKEND2), 8080, TCP_REV_NAT,
        Ct4Entry.F_SEEN_REPLY, 0));
    maps.conntrack(staleReply, new Ct4Entry(past, 5, 500, 2, Ipv4.parse(CLIENT), 40023,
        TCP_REV_NAT, Ct4Entry.F_SEEN_REPLY, 0));

    PacketView out = send(Frame4.tcp(CLIENT, 40023, VIP, 80, TCP_ACK).build());

    assertThat(out.dst()).isEqualTo(BACKEND1);
    Ct4Entry fresh = maps.conntrack(fwd).orElseThrow();
    assertThat(fresh.backendId()).isEqualTo(1);
    assertThat(fresh.packets()).isEqualTo(1);
    assertThat(maps.conntrack(staleReply)).as("reply entry of the old connection").isEmpty();
  }

  @Test
  void lb_18_podsUseTheInternalViewOfAnExternalTrafficPolicyLocalService(NetnsLab lab) {
    load(lab);
    maps.frontend(tcpFrontend(), TCP_REV_NAT, Lb4Service.F_ETP_LOCAL, 0, 1);
    Lb4Key internal = new Lb4Key(Ipv4.parse(VIP), 80, Protocol.TCP, Lb4Key.SCOPE_INTERNAL, 0);
    maps.frontend(internal, TCP_REV_NAT, 0, 0, 2);

    assertThat(send(Frame4.tcp(CLIENT, 40024, VIP, 80, TCP_SYN).build()).dst())
        .isEqualTo(BACKEND2);
  }

  private static byte[] arpRequest() {
    ByteBuffer b = ByteBuffer.allocate(42);
    b.put(new byte[] {-1, -1, -1, -1, -1, -1}).put(Packets.POD_MAC).putShort((short) 0x0806);
    b.putShort((short) 1).putShort((short) 0x0800).put((byte) 6).put((byte) 4)
        .putShort((short) 1).put(Packets.POD_MAC).put(new byte[] {(byte) 198, 18, 0, 2})
        .put(new byte[6]).put(new byte[] {(byte) 169, (byte) 254, 1, 1});
    return b.array();
  }

  @Test
  void lb_icmp_aPortUnreachableFromTheBackendQuotesTheServiceAgainAtToContainer(NetnsLab lab) {
    load(lab);
    maps.frontend(VIP, 53, Protocol.UDP, UDP_REV_NAT, 11);
    byte[] asSent = Frame4.udp(CLIENT, 40000, VIP, 53).payload(11).build();
    BpfProgram.TestRun sent = run(asSent);
    assertThat(sent.retval()).isEqualTo(TC_ACT_OK);
    byte[] dnat = sent.dataOut();
    assertThat(PacketView.of(dnat).dst()).isEqualTo(BACKEND1);

    // the backend's kernel answers ICMP port unreachable quoting what it got: IPv4 header + 8
    byte[] error = Packets.icmpError(BACKEND1, CLIENT, 3, 3, dnat, 14, 28);
    BpfProgram.TestRun r = lxc.program("to_container").testRun(error, 1);

    assertThat(r.retval()).isEqualTo(TC_ACT_OK);
    PacketView out = PacketView.of(r.dataOut());
    assertThat(out.src()).as("sent by the backend: now from the VIP").isEqualTo(VIP);
    assertChecksumsValid(out);
    PacketView quoted = PacketView.of(Packets.quoteAsFrame(r.dataOut(), 14 + 20 + 8, 28));
    assertThat(quoted.src()).isEqualTo(CLIENT);
    assertThat(quoted.dst()).isEqualTo(VIP);
    assertThat(quoted.sport()).isEqualTo(40000);
    assertThat(quoted.dport()).isEqualTo(53);
    assertThat(quoted.ipChecksumValid()).as("the quoted IPv4 header's checksum").isTrue();
    assertThat(quoted.udpChecksum()).as("the quoted UDP checksum: the one the client sent")
        .isEqualTo(PacketView.of(asSent).udpChecksum());
  }

  @Test
  void lb_icmp_anErrorAboutAnotherConnectionIsLeftAsItIs(NetnsLab lab) {
    load(lab);
    byte[] direct = Frame4.udp(CLIENT, 40001, BACKEND1, 5353).payload(11).build();
    byte[] error = Packets.icmpError(BACKEND1, CLIENT, 3, 3, direct, 14, 28);

    BpfProgram.TestRun r = lxc.program("to_container").testRun(error, 1);

    assertThat(r.retval()).isEqualTo(TC_ACT_OK);
    assertThat(r.dataOut()).isEqualTo(error);
  }

  @Test
  void aDatagramReusingTheIpIdOfAFinishedOneIsStillTranslated(NetnsLab lab) {
    // One sender, one destination: its IP ids come round (65,536, shared by all its sockets to
    // that address, within a second at high rates). Datagram 1 is over, all its fragments
    // passed; datagram 2, from another socket, reuses the id. Nothing is ambiguous.
    load(lab);
    maps.frontend(VIP, 53, Protocol.UDP, UDP_REV_NAT, 11);

    PacketView d1first = send(Packets.fragment(Packets.udp4(CLIENT, 40101, VIP, 53, 32), 77,
        true, 0));
    PacketView d1last = send(Packets.fragment(Packets.udp4(CLIENT, 1, VIP, 1, 32), 77, false, 5));
    PacketView d2first = send(Packets.fragment(Packets.udp4(CLIENT, 40102, VIP, 53, 32), 77,
        true, 0));
    PacketView d2last = send(Packets.fragment(Packets.udp4(CLIENT, 1, VIP, 1, 32), 77, false, 5));

    assertThat(d1first.dst()).isEqualTo(BACKEND1);
    assertThat(d1last.dst()).as("datagram 1, later fragment").isEqualTo(BACKEND1);
    assertThat(d2first.dst()).isEqualTo(BACKEND1);
    assertThat(d2last.dst()).as("datagram 2, later fragment: follows its first fragment")
        .isEqualTo(BACKEND1);
  }
}
