package org.anetd.agent.datapath;

import static org.anetd.agent.testing.Packets.TCP_ACK;
import static org.anetd.agent.testing.Packets.TCP_PSH;
import static org.anetd.agent.testing.Packets.TCP_RST;
import static org.anetd.agent.testing.Packets.TCP_SYN;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashSet;
import java.util.Set;
import org.anetd.agent.bpf.BpfMap;
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
 * from_netdev (bpf_host.o) on crafted frames (BPF_PROG_TEST_RUN), run inside a node namespace
 * whose routes decide where the datapath forwards translated packets.
 *
 * <pre>
 *  client 198.18.255.2 ==eth0 netns world==veth== up0 198.18.255.1/24 [tc ingress: from_netdev]
 *                                                  netns node, ip_forward=1
 *   NodePort 198.18.255.1:30080/TCP, :30053/UDP  --DNAT-->  local backend  198.18.0.3:8080/5353
 *   LB ingress 198.19.1.1:80, externalIP 198.19.2.1:443      (ipcache endpoint_id 5)
 *   NodePort 198.18.255.1:30082/TCP  --DNAT+SNAT-->  remote backend 198.18.254.2:8080
 *                                                    (route 198.18.254.0/24 via 198.18.255.2)
 *   local replies: backend --from_container (bpf_lxc.o)--> from 198.18.255.1:30080, forwarded
 * </pre>
 */
@KernelTest
class HostProgramKernelTest {
  private static final int TC_ACT_OK = 0;
  private static final int TC_ACT_SHOT = 2;
  private static final int TC_ACT_REDIRECT = 7;

  private static final String CLIENT = "198.18.255.2";
  private static final String NODE = "198.18.255.1";
  private static final String LOCAL = "198.18.0.3";
  private static final String LOCAL2 = "198.18.0.4";
  private static final String REMOTE = "198.18.254.2";
  private static final String LB_IP = "198.19.1.1";
  private static final String EXTERNAL_IP = "198.19.2.1";
  /** A router between the node and the client. */
  private static final String ROUTER = "198.18.255.254";

  private NetnsLab.Netns node;
  private BpfProgram fromNetdev;
  private BpfProgram fromContainer;
  private ServiceMaps maps;
  private BpfMap ipcache;
  private BpfMap snat;
  private java.nio.file.Path pins;

  private void load(NetnsLab lab, int snatMin, int snatMax) {
    node = lab.netns("node");
    node.run("sysctl", "-qw", "net.ipv4.ip_forward=1");
    NetnsLab.Netns world = lab.netns("world");
    lab.veth(node, "up0", world, "eth0");
    node.ip("addr", "add", NODE + "/24", "dev", "up0");
    node.ip("route", "add", "198.18.254.0/24", "via", CLIENT);

    pins = lab.bpffsDir("host");
    BpfObject lxc = BpfObject.openFile(EbpfObjects.path("bpf_lxc.o"));
    lab.onClose(lxc::close);
    lxc.pinMapsUnder(pins).load();
    BpfObject host = BpfObject.openFile(EbpfObjects.path("bpf_host.o"));
    lab.onClose(host::close);
    host.setRodataU32("snat_port_min", snatMin).setRodataU32("snat_port_max", snatMax)
        .pinMapsUnder(pins).load();
    fromNetdev = host.program("from_netdev");
    fromContainer = lxc.program("from_container");
    maps = new ServiceMaps(lxc);
    ipcache = host.map("anetd_ipcache4");
    snat = host.map("anetd_snat4");
    maps.backend(1, LOCAL, 8080, Protocol.TCP);
    maps.backend(2, LOCAL2, 8080, Protocol.TCP);
    maps.backend(3, REMOTE, 8080, Protocol.TCP);
    maps.backend(11, LOCAL, 5353, Protocol.UDP);
    localPod(LOCAL, 5);
    localPod(LOCAL2, 6);
  }

  private void load(NetnsLab lab) {
    HostSettings d = HostSettings.defaults();
    load(lab, d.snatPortMin(), d.snatPortMax());
  }

  private void localPod(String ip, int endpointId) {
    ipcache.update(Ipcache4KeyCodec.INSTANCE.encode(Ipcache4Key.host(Ipv4.parse(ip))),
        Ipcache4ValueCodec.INSTANCE.encode(new Ipcache4Value(300, Ipv4.parse(NODE),
            endpointId)));
  }

  private BpfProgram.TestRun run(BpfProgram prog, byte[] frame) {
    return node.call(() -> prog.testRun(frame, 1));
  }

  private PacketView send(byte[] frame, int verdict) {
    BpfProgram.TestRun r = run(fromNetdev, frame);
    assertThat(r.retval()).as("verdict of from_netdev").isEqualTo(verdict);
    return PacketView.of(r.dataOut());
  }

  private static Lb4Key key(String address, int port, Protocol p, int scope) {
    return new Lb4Key(Ipv4.parse(address), port, p, scope, 0);
  }

  private static void assertChecksumsValid(PacketView v) {
    assertThat(v.ipChecksumValid()).as("IPv4 header checksum of %s", v).isTrue();
    assertThat(v.l4ChecksumValid()).as("L4 checksum of %s", v).isTrue();
  }

  @Test
  void host_1_nodePortSynToTheNodeIpIsDnatedToTheLocalBackendKeepingTheClientAddress(
      NetnsLab lab) {
    load(lab);
    maps.frontend(key(NODE, 30080, Protocol.TCP, Lb4Key.SCOPE_EXTERNAL), 21,
        Lb4Service.F_NODEPORT, 0, 1);

    PacketView out = send(Frame4.tcp(CLIENT, 40001, NODE, 30080, TCP_SYN).seq(77).payload(3)
        .build(), TC_ACT_OK);

    assertThat(out.dst()).isEqualTo(LOCAL);
    assertThat(out.dport()).isEqualTo(8080);
    assertThat(out.src()).as("source preserved").isEqualTo(CLIENT);
    assertThat(out.sport()).isEqualTo(40001);
    assertThat(out.seq()).isEqualTo(77);
    assertChecksumsValid(out);
    Ct4Entry fwd = maps.conntrack(new Ct4Key(Ipv4.parse(NODE), Ipv4.parse(CLIENT), 30080, 40001,
        Protocol.TCP, Ct4Key.F_SERVICE)).orElseThrow();
    assertThat(fwd.flags() & Ct4Entry.F_NODEPORT).as("CT_F_NODEPORT").isNotZero();
    assertThat(fwd.flags() & Ct4Entry.F_SNAT).as("CT_F_SNAT for a local backend").isZero();
    assertThat(fwd.natAddress()).isEqualTo(Ipv4.parse(LOCAL));
    Ct4Entry reply = maps.conntrack(new Ct4Key(Ipv4.parse(CLIENT), Ipv4.parse(LOCAL), 40001,
        8080, Protocol.TCP, Ct4Key.F_REPLY)).orElseThrow();
    assertThat(reply.revNatId()).isEqualTo(21);
    assertThat(reply.flags() & Ct4Entry.F_NODEPORT).isNotZero();

    // a later segment of the same connection keeps its backend
    PacketView ack = send(Frame4.tcp(CLIENT, 40001, NODE, 30080, TCP_ACK | TCP_PSH).seq(78)
        .payload(11).build(), TC_ACT_OK);
    assertThat(ack.dst()).isEqualTo(LOCAL);
    assertChecksumsValid(ack);
  }

  @Test
  void host_2_replyOfTheLocalBackendComesFromTheNodeIpAndNodePortAndIsForwarded(NetnsLab lab) {
    load(lab);
    maps.frontend(key(NODE, 30080, Protocol.TCP, Lb4Key.SCOPE_EXTERNAL), 21,
        Lb4Service.F_NODEPORT, 0, 1);
    send(Frame4.tcp(CLIENT, 40002, NODE, 30080, TCP_SYN).seq(1000).build(), TC_ACT_OK);

    BpfProgram.TestRun r = run(fromContainer, Frame4.tcp(LOCAL, 8080, CLIENT, 40002,
        TCP_SYN | TCP_ACK).seq(5000).ack(1001).build());

    assertThat(r.retval()).as("forwarded by the datapath (the source is a node address)")
        .isEqualTo(TC_ACT_REDIRECT);
    PacketView synAck = PacketView.of(r.dataOut());
    assertThat(synAck.src()).isEqualTo(NODE);
    assertThat(synAck.sport()).isEqualTo(30080);
    assertThat(synAck.dst()).isEqualTo(CLIENT);
    assertThat(synAck.dport()).isEqualTo(40002);
    assertChecksumsValid(synAck);
  }

  @Test
  void host_2b_aReplyTooBigForTheUplinkThatIsNotGsoIsDroppedAndCounted(NetnsLab lab) {
    load(lab);
    maps.frontend(key(NODE, 30080, Protocol.TCP, Lb4Key.SCOPE_EXTERNAL), 21,
        Lb4Service.F_NODEPORT, 0, 1);
    send(Frame4.tcp(CLIENT, 40012, NODE, 30080, TCP_SYN).seq(1000).build(), TC_ACT_OK);
    assertThat(run(fromContainer, Frame4.tcp(LOCAL, 8080, CLIENT, 40012, TCP_SYN | TCP_ACK)
        .seq(5000).ack(1001).build()).retval()).isEqualTo(TC_ACT_REDIRECT);

    // 2000 bytes of IP, not GSO: more than up0's MTU of 1500 (the stack would drop it as a
    // martian: its source is the node address)
    byte[] big = Frame4.tcp(LOCAL, 8080, CLIENT, 40012, TCP_ACK | TCP_PSH).seq(5001).ack(1001)
        .payload(1960).build();

    assertThat(run(fromContainer, big).retval()).as("next hop not resolved yet")
        .isEqualTo(TC_ACT_SHOT);
    assertThat(maps.packets(MetricsKey.REASON_FRAG_NEEDED, MetricsKey.DIR_EGRESS)).isEqualTo(1);
    node.ip("neigh", "replace", CLIENT, "lladdr", "02:00:00:00:00:09", "dev", "up0");
    assertThat(run(fromContainer, big).retval()).as("next hop resolved")
        .isEqualTo(TC_ACT_SHOT);
    assertThat(maps.packets(MetricsKey.REASON_FRAG_NEEDED, MetricsKey.DIR_EGRESS)).isEqualTo(2);
  }

  @Test
  void host_2c_aPacketWithinTheMtuOfAnL3EgressDeviceIsForwarded(NetnsLab lab) {
    load(lab);
    // a backend reached through an L3 device (no link header, as WireGuard or IPIP): tun, MTU 1400
    node.ip("tuntap", "add", "dev", "tun0", "mode", "tun");
    node.ip("link", "set", "tun0", "mtu", "1400", "up");
    node.ip("route", "add", "198.18.252.0/24", "dev", "tun0");
    maps.backend(4, "198.18.252.2", 8080, Protocol.TCP);
    maps.frontend(key(NODE, 30084, Protocol.TCP, Lb4Key.SCOPE_EXTERNAL), 22,
        Lb4Service.F_NODEPORT, 0, 4);
    send(Frame4.tcp(CLIENT, 40013, NODE, 30084, TCP_SYN).seq(1000).build(), TC_ACT_REDIRECT);

    // 1395 bytes of IP: within the MTU, though the frame's 14-byte Ethernet header would not be
    byte[] full = Frame4.tcp(CLIENT, 40013, NODE, 30084, TCP_ACK | TCP_PSH).seq(1001).ack(1)
        .payload(1355).build();
    byte[] over = Frame4.tcp(CLIENT, 40013, NODE, 30084, TCP_ACK | TCP_PSH).seq(1001).ack(1)
        .payload(1361).build();

    assertThat(run(fromNetdev, full).retval()).as("1395 bytes of IP").isEqualTo(TC_ACT_REDIRECT);
    assertThat(run(fromNetdev, over).retval()).as("1401 bytes of IP").isEqualTo(TC_ACT_SHOT);
    assertThat(maps.packets(MetricsKey.REASON_FRAG_NEEDED, MetricsKey.DIR_INGRESS)
        + maps.packets(MetricsKey.REASON_FRAG_NEEDED, MetricsKey.DIR_EGRESS)).isEqualTo(1);
  }

  @Test
  void host_3_loadBalancerIngressIpAndExternalIpAreDnatedLikeANodePort(NetnsLab lab) {
    load(lab);
    maps.frontend(key(LB_IP, 80, Protocol.TCP, Lb4Key.SCOPE_EXTERNAL), 22,
        Lb4Service.F_EXTERNAL, 0, 1);
    maps.frontend(key(EXTERNAL_IP, 443, Protocol.TCP, Lb4Key.SCOPE_EXTERNAL), 23,
        Lb4Service.F_EXTERNAL, 0, 2);

    PacketView lb = send(Frame4.tcp(CLIENT, 40003, LB_IP, 80, TCP_SYN).build(), TC_ACT_OK);
    PacketView ext = send(Frame4.tcp(CLIENT, 40003, EXTERNAL_IP, 443, TCP_SYN).build(),
        TC_ACT_OK);

    assertThat(lb.dst() + ":" + lb.dport()).isEqualTo(LOCAL + ":8080");
    assertThat(lb.src()).isEqualTo(CLIENT);
    assertChecksumsValid(lb);
    assertThat(ext.dst() + ":" + ext.dport()).isEqualTo(LOCAL2 + ":8080");
    assertThat(ext.src()).isEqualTo(CLIENT);
    assertChecksumsValid(ext);
  }

  @Test
  void host_4_udpNodePortIsDnatedAndTheReplyComesFromTheNodePort(NetnsLab lab) {
    load(lab);
    maps.frontend(key(NODE, 30053, Protocol.UDP, Lb4Key.SCOPE_EXTERNAL), 24,
        Lb4Service.F_NODEPORT, 0, 11);

    PacketView out = send(Frame4.udp(CLIENT, 40004, NODE, 30053).payload(19).build(), TC_ACT_OK);
    assertThat(out.dst() + ":" + out.dport()).isEqualTo(LOCAL + ":5353");
    assertThat(out.src()).isEqualTo(CLIENT);
    assertChecksumsValid(out);

    BpfProgram.TestRun r = run(fromContainer, Frame4.udp(LOCAL, 5353, CLIENT, 40004).payload(7)
        .build());
    assertThat(r.retval()).isEqualTo(TC_ACT_REDIRECT);
    PacketView reply = PacketView.of(r.dataOut());
    assertThat(reply.src() + ":" + reply.sport()).isEqualTo(NODE + ":30053");
    assertChecksumsValid(reply);
  }

  @Test
  void host_5_nodePortWithoutBackendsIsAnsweredWithARstAndAnIcmpUnreachable(NetnsLab lab) {
    load(lab);
    maps.frontend(key(NODE, 30081, Protocol.TCP, Lb4Key.SCOPE_EXTERNAL), 25,
        Lb4Service.F_NODEPORT | Lb4Service.F_NO_BACKENDS, 0);
    maps.frontend(key(NODE, 30081, Protocol.UDP, Lb4Key.SCOPE_EXTERNAL), 26,
        Lb4Service.F_NODEPORT | Lb4Service.F_NO_BACKENDS, 0);

    PacketView rst = send(Frame4.tcp(CLIENT, 40005, NODE, 30081, TCP_SYN).seq(900).build(),
        TC_ACT_REDIRECT);
    assertThat(rst.src() + ":" + rst.sport()).isEqualTo(NODE + ":30081");
    assertThat(rst.dst() + ":" + rst.dport()).isEqualTo(CLIENT + ":40005");
    assertThat(rst.tcpFlags()).isEqualTo(TCP_RST | TCP_ACK);
    assertThat(rst.ack()).isEqualTo(901);
    assertChecksumsValid(rst);

    PacketView icmp = send(Frame4.udp(CLIENT, 40005, NODE, 30081).payload(4).build(),
        TC_ACT_REDIRECT);
    assertThat(icmp.proto()).isEqualTo(1);
    assertThat(icmp.src()).isEqualTo(NODE);
    assertThat(icmp.icmpType()).isEqualTo(3);
    assertThat(icmp.icmpCode()).isEqualTo(3);
    assertThat(maps.packets(MetricsKey.REASON_NO_SERVICE_BACKEND, MetricsKey.DIR_INGRESS))
        .isEqualTo(2);
  }

  @Test
  void host_6_etpLocalUsesTheExternalScopeWithLocalBackendsOnlyAndRefusesWithoutThem(
      NetnsLab lab) {
    load(lab);
    // ETP=Local as the compiler writes it: external view = local endpoints, internal = all
    maps.frontend(key(NODE, 30090, Protocol.TCP, Lb4Key.SCOPE_EXTERNAL), 27,
        Lb4Service.F_NODEPORT | Lb4Service.F_ETP_LOCAL, 0, 1);
    maps.frontend(key(NODE, 30090, Protocol.TCP, Lb4Key.SCOPE_INTERNAL), 27,
        Lb4Service.F_NODEPORT, 0, 1, 3);
    // ... and a node without local endpoints for another one
    maps.frontend(key(NODE, 30091, Protocol.TCP, Lb4Key.SCOPE_EXTERNAL), 28,
        Lb4Service.F_NODEPORT | Lb4Service.F_ETP_LOCAL | Lb4Service.F_NO_BACKENDS, 0);
    maps.frontend(key(NODE, 30091, Protocol.TCP, Lb4Key.SCOPE_INTERNAL), 28,
        Lb4Service.F_NODEPORT, 0, 3);

    for (int port = 41000; port < 41030; port++) {
      PacketView out = send(Frame4.tcp(CLIENT, port, NODE, 30090, TCP_SYN).build(), TC_ACT_OK);
      assertThat(out.dst()).as("backend of connection from port %d", port).isEqualTo(LOCAL);
      assertThat(out.src()).isEqualTo(CLIENT);
    }
    PacketView rst = send(Frame4.tcp(CLIENT, 41100, NODE, 30091, TCP_SYN).build(),
        TC_ACT_REDIRECT);
    assertThat(rst.tcpFlags() & TCP_RST).isNotZero();
  }

  @Test
  void host_7_remoteBackendGetsTheNodeIpAndASnatPortInsideTheRangeNeverANodePort(
      NetnsLab lab) {
    load(lab);
    maps.frontend(key(NODE, 30082, Protocol.TCP, Lb4Key.SCOPE_EXTERNAL), 29,
        Lb4Service.F_NODEPORT, 0, 3);
    HostSettings range = HostSettings.defaults();

    Set<Integer> ports = new HashSet<>();
    for (int sport = 42000; sport < 42200; sport++) {
      PacketView out = send(Frame4.tcp(CLIENT, sport, NODE, 30082, TCP_SYN).build(),
          TC_ACT_REDIRECT);
      assertThat(out.dst() + ":" + out.dport()).isEqualTo(REMOTE + ":8080");
      assertThat(out.src()).as("SNAT to the node address").isEqualTo(NODE);
      assertThat(out.sport()).as("SNAT port of client port %d", sport)
          .isBetween(range.snatPortMin(), range.snatPortMax())
          .satisfies(port -> assertThat(port < 30000 || port > 32767)
              .as("SNAT port %d outside node-port-range 30000-32767", port).isTrue());
      assertChecksumsValid(out);
      ports.add(out.sport());
    }
    assertThat(ports).as("one SNAT port per connection").hasSize(200);

    // the first connection: its next segment keeps its SNAT port, its reply goes back
    PacketView syn = send(Frame4.tcp(CLIENT, 42000, NODE, 30082, TCP_ACK).seq(2).build(),
        TC_ACT_REDIRECT);
    int snatPort = syn.sport();
    PacketView synAck = send(Frame4.tcp(REMOTE, 8080, NODE, snatPort, TCP_SYN | TCP_ACK)
        .seq(9000).ack(2).build(), TC_ACT_REDIRECT);
    assertThat(synAck.src() + ":" + synAck.sport()).isEqualTo(NODE + ":30082");
    assertThat(synAck.dst() + ":" + synAck.dport()).isEqualTo(CLIENT + ":42000");
    assertThat(synAck.ack()).isEqualTo(2);
    assertChecksumsValid(synAck);
    Ct4Entry fwd = maps.conntrack(new Ct4Key(Ipv4.parse(NODE), Ipv4.parse(CLIENT), 30082, 42000,
        Protocol.TCP, Ct4Key.F_SERVICE)).orElseThrow();
    assertThat(fwd.flags() & (Ct4Entry.F_SNAT | Ct4Entry.F_NODEPORT | Ct4Entry.F_SEEN_REPLY))
        .isEqualTo(Ct4Entry.F_SNAT | Ct4Entry.F_NODEPORT | Ct4Entry.F_SEEN_REPLY);
    Snat4Entry in = snat.lookup(Ct4KeyCodec.INSTANCE.encode(new Ct4Key(Ipv4.parse(NODE),
        Ipv4.parse(REMOTE), snatPort, 8080, Protocol.TCP, Ct4Key.F_REPLY)))
        .map(Snat4EntryCodec.INSTANCE::decode).orElseThrow();
    assertThat(in.toAddress()).isEqualTo(Ipv4.parse(CLIENT));
    assertThat(in.toPort()).isEqualTo(42000);
    assertThat(in.expiresNs()).isEqualTo(fwd.expiresNs());
  }

  @Test
  void host_7b_aSnatedConnectionKeepsItsAddressWhenTheNodesSnatAddressChanges(NetnsLab lab) {
    load(lab); // snat_ipv4 unset: a LoadBalancer IP connection is SNATed to the frontend
    maps.frontend(key(LB_IP, 80, Protocol.TCP, Lb4Key.SCOPE_EXTERNAL), 31,
        Lb4Service.F_EXTERNAL, 0, 3);
    PacketView syn = send(Frame4.tcp(CLIENT, 43000, LB_IP, 80, TCP_SYN).build(),
        TC_ACT_REDIRECT);
    assertThat(syn.src()).isEqualTo(LB_IP);

    // the next agent loads bpf_host with the node's own address as snat_ipv4, on the same maps
    PacketView out = send(fromNetdevWithSnatAddress(lab, NODE),
        Frame4.tcp(CLIENT, 43000, LB_IP, 80, TCP_ACK).seq(2).build());

    assertThat(out.src() + ":" + out.sport()).as("the connection's own SNAT tuple")
        .isEqualTo(LB_IP + ":" + syn.sport());
  }

  @Test
  void host_7c_aSnatedConnectionOnAnAddressTheNodeNoLongerHasMovesToItsNewAddress(NetnsLab lab) {
    load(lab);
    maps.frontend(key(LB_IP, 80, Protocol.TCP, Lb4Key.SCOPE_EXTERNAL), 31,
        Lb4Service.F_EXTERNAL, 0, 3);
    String oldAddress = "198.18.255.9";
    PacketView syn = send(fromNetdevWithSnatAddress(lab, oldAddress),
        Frame4.tcp(CLIENT, 43001, LB_IP, 80, TCP_SYN).build());
    assertThat(syn.src()).isEqualTo(oldAddress);

    PacketView next = send(fromNetdevWithSnatAddress(lab, NODE),
        Frame4.tcp(CLIENT, 43001, LB_IP, 80, TCP_ACK).seq(2).build());

    assertThat(next.src()).as("the node's address now").isEqualTo(NODE);
  }

  /** from_netdev of a bpf_host loaded on this test's maps with snat_ipv4 {@code address}. */
  private BpfProgram fromNetdevWithSnatAddress(NetnsLab lab, String address) {
    BpfObject host = BpfObject.openFile(EbpfObjects.path("bpf_host.o"));
    lab.onClose(host::close);
    HostSettings d = HostSettings.defaults();
    host.setRodataU32("snat_port_min", d.snatPortMin())
        .setRodataU32("snat_port_max", d.snatPortMax())
        .setRodataU32("snat_ipv4", Ipv4.parse(address).bits()).pinMapsUnder(pins).load();
    return host.program("from_netdev");
  }

  private PacketView send(BpfProgram prog, byte[] frame) {
    BpfProgram.TestRun r = run(prog, frame);
    assertThat(r.retval()).as("verdict").isEqualTo(TC_ACT_REDIRECT);
    return PacketView.of(r.dataOut());
  }

  @Test
  void host_8_aFullSnatRangeDropsNewConnectionsAndCountsThem(NetnsLab lab) {
    load(lab, 62000, 62003);
    maps.frontend(key(NODE, 30082, Protocol.TCP, Lb4Key.SCOPE_EXTERNAL), 29,
        Lb4Service.F_NODEPORT, 0, 3);

    Set<Integer> ports = new HashSet<>();
    for (int sport = 43000; sport < 43004; sport++) {
      ports.add(send(Frame4.tcp(CLIENT, sport, NODE, 30082, TCP_SYN).build(), TC_ACT_REDIRECT)
          .sport());
    }
    assertThat(ports).containsExactlyInAnyOrder(62000, 62001, 62002, 62003);

    send(Frame4.tcp(CLIENT, 43004, NODE, 30082, TCP_SYN).build(), TC_ACT_SHOT);
    assertThat(maps.packets(MetricsKey.REASON_SNAT_EXHAUSTED, MetricsKey.DIR_INGRESS))
        .isEqualTo(1);
    assertThat(maps.conntrack(new Ct4Key(Ipv4.parse(NODE), Ipv4.parse(CLIENT), 30082, 43004,
        Protocol.TCP, Ct4Key.F_SERVICE))).as("no conntrack left for the dropped SYN").isEmpty();
  }

  @Test
  void host_8b_anExpiredSnatEntryIsClaimedForTheNextConnectionAndNamesItsClient(NetnsLab lab) {
    load(lab, 62000, 62000); // one port: the new connection must take the expired entry's
    maps.frontend(key(NODE, 30082, Protocol.TCP, Lb4Key.SCOPE_EXTERNAL), 29,
        Lb4Service.F_NODEPORT, 0, 3);
    byte[] inKey = Ct4KeyCodec.INSTANCE.encode(new Ct4Key(Ipv4.parse(NODE), Ipv4.parse(REMOTE),
        62000, 8080, Protocol.TCP, Ct4Key.F_REPLY));
    snat.update(inKey, Snat4EntryCodec.INSTANCE.encode(
        new Snat4Entry(1, Ipv4.parse("198.18.255.77"), 40000))); // a connection long gone

    PacketView out = send(Frame4.tcp(CLIENT, 44000, NODE, 30082, TCP_SYN).build(),
        TC_ACT_REDIRECT);

    assertThat(out.src() + ":" + out.sport()).isEqualTo(NODE + ":62000");
    Snat4Entry in = snat.lookup(inKey).map(Snat4EntryCodec.INSTANCE::decode).orElseThrow();
    assertThat(in.toAddress() + ":" + in.toPort()).as("replies go to the new client")
        .isEqualTo(CLIENT + ":44000");
    assertThat(in.expiresNs()).isGreaterThan(1);
    PacketView synAck = send(Frame4.tcp(REMOTE, 8080, NODE, 62000, TCP_SYN | TCP_ACK)
        .seq(9000).ack(1).build(), TC_ACT_REDIRECT);
    assertThat(synAck.dst() + ":" + synAck.dport()).isEqualTo(CLIENT + ":44000");
  }

  @Test
  void host_10_fragmentationNeededAboutANodePortReplyGoesToTheLocalBackendQuotingItsReply(
      NetnsLab lab) {
    load(lab);
    maps.frontend(key(NODE, 30080, Protocol.TCP, Lb4Key.SCOPE_EXTERNAL), 21,
        Lb4Service.F_NODEPORT, 0, 1);
    send(Frame4.tcp(CLIENT, 40010, NODE, 30080, TCP_SYN).build(), TC_ACT_OK);
    // the backend's reply as it left the node, and a router's error about it
    byte[] reply = Frame4.tcp(NODE, 30080, CLIENT, 40010, TCP_SYN | TCP_ACK).build();

    PacketView out = send(Packets.icmpError(ROUTER, NODE, 3, 4, reply, 14, 28), TC_ACT_OK);

    assertThat(out.src() + " -> " + out.dst()).isEqualTo(ROUTER + " -> " + LOCAL);
    assertChecksumsValid(out);
    PacketView quoted = PacketView.of(Packets.quoteAsFrame(out.frame(), 14 + 20 + 8, 28));
    assertThat(quoted.src() + ":" + quoted.sport() + " -> " + quoted.dst() + ":"
        + quoted.dport()).as("the reply as the backend sent it")
        .isEqualTo(LOCAL + ":8080 -> " + CLIENT + ":40010");
    assertThat(quoted.ipChecksumValid()).isTrue();
  }

  @Test
  void host_10b_fragmentationNeededAboutASnatedReplyGoesToTheRemoteBackendQuotingItsReply(
      NetnsLab lab) {
    load(lab);
    maps.frontend(key(NODE, 30053, Protocol.UDP, Lb4Key.SCOPE_EXTERNAL), 22,
        Lb4Service.F_NODEPORT, 0, 12);
    maps.backend(12, REMOTE, 5353, Protocol.UDP);
    PacketView forwarded = send(Frame4.udp(CLIENT, 40011, NODE, 30053).payload(9).build(),
        TC_ACT_REDIRECT);
    int snatPort = forwarded.sport();
    byte[] reply = Frame4.udp(NODE, 30053, CLIENT, 40011).payload(900).build();

    PacketView out = send(Packets.icmpError(ROUTER, NODE, 3, 4, reply, 14, 28), TC_ACT_OK);

    assertThat(out.src() + " -> " + out.dst()).isEqualTo(ROUTER + " -> " + REMOTE);
    assertChecksumsValid(out);
    PacketView quoted = PacketView.of(Packets.quoteAsFrame(out.frame(), 14 + 20 + 8, 28));
    assertThat(quoted.src() + ":" + quoted.sport() + " -> " + quoted.dst() + ":"
        + quoted.dport()).as("the reply as the remote backend sent it, to the SNAT address")
        .isEqualTo(REMOTE + ":5353 -> " + NODE + ":" + snatPort);
    assertThat(quoted.ipChecksumValid()).isTrue();
    byte[] asSent = Frame4.udp(REMOTE, 5353, NODE, snatPort).payload(900).build();
    assertThat(quoted.udpChecksum()).as("the UDP checksum the backend's reply carried")
        .isEqualTo(PacketView.of(asSent).udpChecksum());
  }

  @Test
  void host_10c_anErrorAboutAPacketOfNoNodePortConnectionPassesAsItIs(NetnsLab lab) {
    load(lab);
    byte[] hostPacket = Frame4.tcp(NODE, 22, CLIENT, 40012, TCP_ACK).build();
    byte[] error = Packets.icmpError(ROUTER, NODE, 3, 4, hostPacket, 14, 28);

    BpfProgram.TestRun r = run(fromNetdev, error);

    assertThat(r.retval()).isEqualTo(TC_ACT_OK);
    assertThat(r.dataOut()).isEqualTo(error);
  }

  @Test
  void host_9_hostTrafficAndClusterIpsFromOutsidePassUntouched(NetnsLab lab) {
    load(lab);
    maps.frontend("198.19.0.10", 80, Protocol.TCP, 30, 1); // a ClusterIP: no NodePort flag

    byte[] ssh = Frame4.tcp(CLIENT, 40009, NODE, 22, TCP_SYN).build();
    byte[] clusterIp = Frame4.tcp(CLIENT, 40009, "198.19.0.10", 80, TCP_SYN).build();
    assertThat(run(fromNetdev, ssh).dataOut()).isEqualTo(ssh);
    assertThat(run(fromNetdev, clusterIp).dataOut()).isEqualTo(clusterIp);
    assertThat(maps.conntrack(Protocol.TCP)).isEmpty();
  }

}
