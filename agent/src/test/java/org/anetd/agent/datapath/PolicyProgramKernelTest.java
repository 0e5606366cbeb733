package org.anetd.agent.datapath;

import static org.anetd.agent.testing.Packets.TCP_ACK;
import static org.anetd.agent.testing.Packets.TCP_SYN;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.anetd.agent.bpf.BpfObject;
import org.anetd.agent.bpf.BpfProgram;
import org.anetd.agent.bpf.RingBuffer;
import org.anetd.agent.policy.PortPrefixes;
import org.anetd.agent.testing.EbpfObjects;
import org.anetd.agent.testing.KernelTest;
import org.anetd.agent.testing.NetnsLab;
import org.anetd.agent.testing.PacketView;
import org.anetd.agent.testing.Packets;
import org.anetd.agent.testing.Packets.Frame4;
import org.junit.jupiter.api.Test;

/**
 * NetworkPolicy in bpf_lxc on crafted frames (BPF_PROG_TEST_RUN): the egress check in
 * from_container (after service translation), the ingress check in to_container, the policy
 * conntrack pair that lets later packets and replies pass, verdict events and audit mode. Maps
 * are written with {@link PolicyWriter}, as the agent writes them.
 *
 * <pre>
 *   pod A 198.18.0.2 (endpoint 1, identity 1001)  --hv-a [from_container | to_container]
 *   pod B 198.18.0.3 (endpoint 2, identity 1002)  --hv-b [from_container | to_container]
 *   pod C 198.18.1.4 (identity 1003, another node: no endpoint here)
 *   node  198.18.255.1 (identity 1, host)          world: anything else, e.g. 198.19.255.9
 *   ClusterIP 198.19.0.10:80/TCP -> B:8080 or A:8080 (hairpin via 169.254.42.1)
 * </pre>
 */
@KernelTest
class PolicyProgramKernelTest {
  private static final int TC_ACT_OK = 0;
  private static final int TC_ACT_SHOT = 2;
  private static final int INGRESS = PolicyKey.DIR_INGRESS;
  private static final int EGRESS = PolicyKey.DIR_EGRESS;

  private static final String A = "198.18.0.2";
  private static final String B = "198.18.0.3";
  private static final String C = "198.18.1.4";
  private static final String NODE = "198.18.255.1";
  private static final String WORLD = "198.19.255.9";
  private static final String VIP = "198.19.0.10";
  private static final String HAIRPIN = "169.254.42.1";
  private static final long EP_A = 1;
  private static final long EP_B = 2;
  private static final long ID_A = 1001;
  private static final long ID_B = 1002;
  private static final long ID_C = 1003;

  private BpfObject lxc;
  private BpfProgram from;
  private BpfProgram to;
  private ServiceMaps svc;
  private PolicyWriter writer;
  private final Map<PolicyKey, PolicyEntry> entries = new TreeMap<>(
      org.anetd.agent.policy.PolicyCompiler.KEY_ORDER);
  private final Map<Long, EndpointPolicy> endpoints = new TreeMap<>();

  private void load(NetnsLab lab, int auditMode, int verdictEvents) {
    lxc = BpfObject.openFile(EbpfObjects.path("bpf_lxc.o"));
    lab.onClose(lxc::close);
    lxc.setRodataU32("policy_audit_mode", auditMode);
    lxc.setRodataU32("policy_verdict_events", verdictEvents);
    lxc.pinMapsUnder(lab.bpffsDir("pol")).load();
    from = lxc.program("from_container");
    to = lxc.program("to_container");
    svc = new ServiceMaps(lxc);
    writer = new PolicyWriter(MapBackend.of(lxc.map(Datapath.POLICY)),
        MapBackend.of(lxc.map(Datapath.ENDPOINTS)), MapBackend.of(lxc.map(Datapath.IPCACHE4)));
    endpoints.put(EP_A, new EndpointPolicy(ID_A, 0));
    endpoints.put(EP_B, new EndpointPolicy(ID_B, 0));
    write();
  }

  private void load(NetnsLab lab) {
    load(lab, 0, 1);
  }

  private void write() {
    Map<Ipcache4Key, Ipcache4Value> ipcache = new TreeMap<>(
        org.anetd.agent.policy.IpcacheCompiler.ORDER);
    ipcache.put(host(A), new Ipcache4Value(ID_A, Ipv4.parse(NODE), (int) EP_A));
    ipcache.put(host(B), new Ipcache4Value(ID_B, Ipv4.parse(NODE), (int) EP_B));
    ipcache.put(host(C), new Ipcache4Value(ID_C, Ipv4.parse("198.18.255.2"), 0));
    ipcache.put(host(NODE), new Ipcache4Value(Ipcache4Value.IDENTITY_HOST, Ipv4.parse(NODE), 0));
    writer.write(entries, endpoints, ipcache);
  }

  private static Ipcache4Key host(String ip) {
    return Ipcache4Key.host(Ipv4.parse(ip));
  }

  private void isolate(long ep, int flags) {
    endpoints.put(ep, new EndpointPolicy(endpoints.get(ep).identity(), flags));
    write();
  }

  private void allow(PolicyKey key, long policySet) {
    entries.put(key, new PolicyEntry(policySet, PolicyEntry.VERDICT_ALLOW, false));
    write();
  }

  private static PolicyKey port(long ep, long identity, int dir, Protocol p, int port) {
    return PolicyKey.portPrefix(ep, identity, dir, p, port, 16);
  }

  private int egress(byte[] frame) {
    return from.testRun(frame, 1).retval();
  }

  private int ingress(byte[] frame) {
    return to.testRun(frame, 1).retval();
  }

  private static byte[] syn(String src, int sport, String dst, int dport) {
    return Frame4.tcp(src, sport, dst, dport, TCP_SYN).build();
  }

  private Optional<Ct4Entry> ct(String daddr, String saddr, int dport, int sport, Protocol p,
      int flags) {
    return svc.conntrack(new Ct4Key(Ipv4.parse(daddr), Ipv4.parse(saddr), dport, sport, p,
        flags));
  }

  /** Runs {@code action}, then returns the events it left on the ring buffer. */
  private List<Event> events(Runnable action) {
    List<Event> out = new ArrayList<>();
    try (RingBuffer rb = RingBuffer.open(lxc.map(Datapath.EVENTS),
        r -> out.add(EventCodec.INSTANCE.decode(r)))) {
      rb.poll(0); // drain what earlier steps left
      out.clear();
      action.run();
      rb.poll(100);
    }
    return out;
  }

  @Test
  void pol_1_ingressAllowedByAnIdentityEntryIsTrackedWithItsPolicySet(NetnsLab lab) {
    load(lab);
    isolate(EP_B, EndpointPolicy.F_INGRESS_ISOLATED);
    allow(port(EP_B, ID_A, INGRESS, Protocol.TCP, 80), 7);

    assertThat(ingress(syn(A, 40001, B, 80))).as("A -> B:80").isEqualTo(TC_ACT_OK);
    assertThat(ingress(syn(A, 40002, B, 81))).as("A -> B:81 (no entry)").isEqualTo(TC_ACT_SHOT);
    assertThat(ingress(syn(C, 40003, B, 80))).as("C -> B:80 (other identity)")
        .isEqualTo(TC_ACT_SHOT);

    // B's one entry: the tuple as B sends it, marked as opened by the peer.
    Ct4Entry b = ct(A, B, 40001, 80, Protocol.TCP, Ct4Key.F_POL_TX).orElseThrow();
    assertThat(b.flags() & Ct4Entry.F_POLICY_ALLOWED).as("F_POLICY_ALLOWED").isNotZero();
    assertThat(b.flags() & Ct4Entry.F_REPLY_DIR).as("opened by the peer").isNotZero();
    assertThat(b.policyId()).as("policy_id").isEqualTo(7);
    assertThat(b.backendId()).as("backend_id").isZero();
    assertThat(ct(B, A, 80, 40001, Protocol.TCP, Ct4Key.F_POL_RX))
        .as("one entry per endpoint and connection: none under the received tuple").isEmpty();
    assertThat(ct(A, B, 40002, 81, Protocol.TCP, Ct4Key.F_POL_TX)).as("denied: no entry")
        .isEmpty();
  }

  @Test
  void pol_2_identityZeroEntryAllowsAnyPeerIncludingWorld(NetnsLab lab) {
    load(lab);
    isolate(EP_B, EndpointPolicy.F_INGRESS_ISOLATED);
    allow(port(EP_B, 0, INGRESS, Protocol.UDP, 53), 3);

    assertThat(ingress(Packets.udp4(WORLD, 5000, B, 53, 8))).as("world -> B:53/UDP")
        .isEqualTo(TC_ACT_OK);
    assertThat(ingress(Packets.udp4(C, 5001, B, 53, 8))).as("C -> B:53/UDP").isEqualTo(TC_ACT_OK);
    assertThat(ingress(syn(C, 5002, B, 53))).as("C -> B:53/TCP").isEqualTo(TC_ACT_SHOT);
  }

  @Test
  void pol_3_isolatedWithoutEntryDropsAndCountsPerDirection(NetnsLab lab) {
    load(lab);
    isolate(EP_A, EndpointPolicy.F_EGRESS_ISOLATED);
    isolate(EP_B, EndpointPolicy.F_INGRESS_ISOLATED);

    assertThat(egress(syn(A, 40010, C, 80))).as("A egress").isEqualTo(TC_ACT_SHOT);
    assertThat(ingress(syn(C, 40011, B, 80))).as("B ingress").isEqualTo(TC_ACT_SHOT);
    assertThat(ingress(Packets.icmpEcho4(WORLD, B, 8, 7, 1))).as("B ingress ICMP")
        .isEqualTo(TC_ACT_SHOT);

    assertThat(svc.packets(MetricsKey.REASON_POLICY_DENIED, MetricsKey.DIR_EGRESS)).isEqualTo(1);
    assertThat(svc.packets(MetricsKey.REASON_POLICY_DENIED, MetricsKey.DIR_INGRESS)).isEqualTo(2);
    assertThat(svc.conntrack(Protocol.TCP)).as("nothing tracked for denied packets").isEmpty();
  }

  @Test
  void pol_4_endPortRangeMatchesThroughPortPrefixes(NetnsLab lab) {
    load(lab);
    isolate(EP_B, EndpointPolicy.F_INGRESS_ISOLATED);
    for (PortPrefixes.PortPrefix pp : PortPrefixes.of(80, 83)) { // 80/14: 80..83
      allow(PolicyKey.portPrefix(EP_B, ID_A, INGRESS, Protocol.TCP, pp.port(), pp.bits()), 4);
    }
    assertThat(PortPrefixes.of(80, 83)).as("one prefix entry").hasSize(1);

    for (int port = 78; port <= 85; port++) {
      boolean inRange = port >= 80 && port <= 83;
      assertThat(ingress(syn(A, 41000 + port, B, port))).as("A -> B:%d", port)
          .isEqualTo(inRange ? TC_ACT_OK : TC_ACT_SHOT);
    }
  }

  @Test
  void pol_5_icmpIsMatchedOnlyByAllPortsEntries(NetnsLab lab) {
    load(lab);
    isolate(EP_B, EndpointPolicy.F_INGRESS_ISOLATED);
    allow(port(EP_B, ID_A, INGRESS, Protocol.TCP, 80), 1);
    allow(PolicyKey.portPrefix(EP_B, ID_A, INGRESS, Protocol.TCP, 0, 0), 1); // all TCP ports

    assertThat(ingress(Packets.icmpEcho4(A, B, 8, 100, 1))).as("ping with port entries only")
        .isEqualTo(TC_ACT_SHOT);

    allow(PolicyKey.allPorts(EP_B, ID_A, INGRESS), 2);
    assertThat(ingress(Packets.icmpEcho4(A, B, 8, 101, 1))).as("ping with an all-ports entry")
        .isEqualTo(TC_ACT_OK);
    Ct4Entry b = ct(A, B, 101, 101, Protocol.ICMP, Ct4Key.F_POL_TX).orElseThrow();
    assertThat(b.policyId()).isEqualTo(2);
  }

  @Test
  void pol_6_nonIsolatedEndpointPassesAndIsTrackedWithoutEvents(NetnsLab lab) {
    load(lab);

    List<Event> ev = events(() -> {
      assertThat(egress(syn(A, 40020, C, 80))).isEqualTo(TC_ACT_OK);
      assertThat(ingress(syn(WORLD, 40021, B, 443))).isEqualTo(TC_ACT_OK);
    });

    assertThat(ev).as("no verdict events outside isolated directions").isEmpty();
    assertThat(ct(C, A, 80, 40020, Protocol.TCP, Ct4Key.F_POL_TX)).isPresent()
        .get().satisfies(e -> assertThat(e.flags() & Ct4Entry.F_POLICY_ALLOWED).isNotZero());
    assertThat(ct(A, C, 40020, 80, Protocol.TCP, Ct4Key.F_POL_RX)).as("no second entry").isEmpty();
    assertThat(ct(WORLD, B, 40021, 443, Protocol.TCP, Ct4Key.F_POL_TX)).isPresent();
  }

  /** The agent's GC reads expiries on the datapath's clock: a live entry stays, a dead one goes. */
  @Test
  void pol_6b_conntrackGcDeletesAnEntryOnlyOnceItsLifetimeHasEnded(NetnsLab lab) {
    load(lab);
    assertThat(egress(syn(A, 40025, C, 80))).isEqualTo(TC_ACT_OK);
    MapBackend tcp = MapBackend.of(lxc.map(Datapath.CT4_TCP));

    assertThat(ConntrackPurger.purgeExpired(tcp, System.nanoTime())).as("SYN entry, 60 s left")
        .isZero();
    assertThat(ct(C, A, 80, 40025, Protocol.TCP, Ct4Key.F_POL_TX)).isPresent();
    long afterItsLifetime = System.nanoTime() + TimeUnit.SECONDS.toNanos(61);
    assertThat(ConntrackPurger.purgeExpired(tcp, afterItsLifetime)).isEqualTo(1);
    assertThat(ct(C, A, 80, 40025, Protocol.TCP, Ct4Key.F_POL_TX)).isEmpty();
  }

  @Test
  void pol_7_repliesOfAnAllowedConnectionPassIsolatedHooksWithoutEntries(NetnsLab lab) {
    load(lab);
    // A may open connections to B:80 only; B may open none and accepts anything; A accepts none.
    isolate(EP_A, EndpointPolicy.F_EGRESS_ISOLATED | EndpointPolicy.F_INGRESS_ISOLATED);
    isolate(EP_B, EndpointPolicy.F_EGRESS_ISOLATED);
    allow(port(EP_A, ID_B, EGRESS, Protocol.TCP, 80), 5);

    assertThat(egress(syn(A, 40030, B, 80))).as("SYN out of A").isEqualTo(TC_ACT_OK);
    assertThat(ingress(syn(A, 40030, B, 80))).as("SYN into B").isEqualTo(TC_ACT_OK);
    byte[] synAck = Frame4.tcp(B, 80, A, 40030, TCP_SYN | TCP_ACK).seq(9).ack(2).build();
    assertThat(egress(synAck)).as("SYN-ACK out of egress-isolated B").isEqualTo(TC_ACT_OK);
    assertThat(ingress(synAck)).as("SYN-ACK into ingress-isolated A").isEqualTo(TC_ACT_OK);
    byte[] ack = Frame4.tcp(A, 40030, B, 80, TCP_ACK).seq(2).ack(10).build();
    assertThat(egress(ack)).isEqualTo(TC_ACT_OK);
    assertThat(ingress(ack)).isEqualTo(TC_ACT_OK);

    assertThat(egress(syn(B, 40031, A, 80))).as("B opening its own connection")
        .isEqualTo(TC_ACT_SHOT);
    Ct4Entry aTx = ct(B, A, 80, 40030, Protocol.TCP, Ct4Key.F_POL_TX).orElseThrow();
    assertThat(aTx.flags() & Ct4Entry.F_SEEN_REPLY).as("A's entry saw the reply").isNotZero();
    assertThat(aTx.packets()).as("A's packets, both ways: SYN, SYN-ACK, ACK").isEqualTo(3);
    Ct4Entry bTx = ct(A, B, 40030, 80, Protocol.TCP, Ct4Key.F_POL_TX).orElseThrow();
    assertThat(bTx.flags() & Ct4Entry.F_SEEN_REPLY).as("B's entry saw its own answer")
        .isNotZero();
    assertThat(bTx.flags() & Ct4Entry.F_REPLY_DIR).as("opened by A").isNotZero();
    assertThat(bTx.packets()).as("B's packets, both ways").isEqualTo(3);
    assertThat(aTx.flags() & Ct4Entry.F_REPLY_DIR).as("A opened it").isZero();
  }

  @Test
  void pol_8_verdictEventsCarryTheTranslatedTupleAndTheDecision(NetnsLab lab) {
    load(lab);
    svc.backend(1, B, 8080, Protocol.TCP);
    svc.frontend(VIP, 80, Protocol.TCP, 9, 1);
    isolate(EP_A, EndpointPolicy.F_EGRESS_ISOLATED);
    allow(port(EP_A, ID_B, EGRESS, Protocol.TCP, 8080), 12); // the backend port, not the VIP's

    List<Event> ev = events(() -> {
      PacketView out = PacketView.of(from.testRun(syn(A, 40040, VIP, 80), 1).dataOut());
      assertThat(out.dst()).isEqualTo(B);
      assertThat(egress(syn(A, 40041, C, 443))).isEqualTo(TC_ACT_SHOT);
      assertThat(egress(syn(A, 40041, C, 443))).as("SYN retry").isEqualTo(TC_ACT_SHOT);
      assertThat(egress(Frame4.tcp(A, 40040, VIP, 80, TCP_ACK).build()))
          .as("tracked: no second event").isEqualTo(TC_ACT_OK);
    });

    assertThat(ev).hasSize(3);
    Event allow = ev.get(0);
    assertThat(allow.type()).as("type").isEqualTo(Event.TYPE_POLICY_VERDICT);
    assertThat(allow.allowed()).as("verdict").isTrue();
    assertThat(allow.direction()).as("direction").isEqualTo(EGRESS);
    assertThat(allow.endpointId()).as("endpoint_id").isEqualTo(EP_A);
    assertThat(allow.remoteIdentity()).as("remote_identity").isEqualTo(ID_B);
    assertThat(allow.policySetId()).as("policy_set_id").isEqualTo(12);
    assertThat(allow.saddr()).as("saddr").isEqualTo(Ipv4.parse(A));
    assertThat(allow.daddr()).as("daddr (backend)").isEqualTo(Ipv4.parse(B));
    assertThat(allow.sport()).as("sport").isEqualTo(40040);
    assertThat(allow.dport()).as("dport (backend port)").isEqualTo(8080);
    assertThat(allow.protocol()).as("proto").isEqualTo(Protocol.TCP);
    assertThat(allow.reason()).as("reason").isEqualTo(MetricsKey.REASON_FORWARDED);
    assertThat(allow.timestampNs()).as("timestamp").isPositive();
    for (Event deny : ev.subList(1, 3)) {
      assertThat(deny.allowed()).as("verdict").isFalse();
      assertThat(deny.remoteIdentity()).as("remote_identity").isEqualTo(ID_C);
      assertThat(deny.daddr()).isEqualTo(Ipv4.parse(C));
      assertThat(deny.dport()).isEqualTo(443);
      assertThat(deny.policySetId()).as("policy_set_id").isZero();
      assertThat(deny.reason()).as("reason").isEqualTo(MetricsKey.REASON_POLICY_DENIED);
    }

    // The reply comes back from the VIP and passes A's ingress by A's policy entry.
    isolate(EP_A, EndpointPolicy.F_EGRESS_ISOLATED | EndpointPolicy.F_INGRESS_ISOLATED);
    byte[] synAck = Frame4.tcp(B, 8080, A, 40040, TCP_SYN | TCP_ACK).build();
    PacketView back = PacketView.of(from.testRun(synAck, 1).dataOut());
    assertThat(back.src()).isEqualTo(VIP);
    assertThat(ingress(Frame4.tcp(VIP, 80, A, 40040, TCP_SYN | TCP_ACK).build()))
        .as("reply from the VIP into A").isEqualTo(TC_ACT_OK);
  }

  @Test
  void pol_9_auditModeLetsDeniedConnectionsPassButReportsAndCountsThem(NetnsLab lab) {
    load(lab, 1, 1);
    isolate(EP_B, EndpointPolicy.F_INGRESS_ISOLATED);

    List<Event> ev = events(() -> {
      assertThat(ingress(syn(C, 40050, B, 80))).as("denied, audited").isEqualTo(TC_ACT_OK);
      assertThat(ingress(Frame4.tcp(C, 40050, B, 80, TCP_ACK).build())).isEqualTo(TC_ACT_OK);
    });

    assertThat(ev).hasSize(1);
    assertThat(ev.get(0).allowed()).as("verdict").isFalse();
    assertThat(ev.get(0).reason()).as("reason").isEqualTo(MetricsKey.REASON_POLICY_AUDITED);
    assertThat(svc.packets(MetricsKey.REASON_POLICY_AUDITED, MetricsKey.DIR_INGRESS))
        .isEqualTo(1);
    assertThat(svc.packets(MetricsKey.REASON_POLICY_DENIED, MetricsKey.DIR_INGRESS)).isZero();
    Ct4Entry b = ct(C, B, 40050, 80, Protocol.TCP, Ct4Key.F_POL_TX).orElseThrow();
    assertThat(b.flags() & Ct4Entry.F_POLICY_ALLOWED).as("not allowed by policy").isZero();
  }

  @Test
  void pol_10_verdictEventsCanBeTurnedOff(NetnsLab lab) {
    load(lab, 0, 0);
    isolate(EP_B, EndpointPolicy.F_INGRESS_ISOLATED);

    List<Event> ev = events(() -> assertThat(ingress(syn(C, 40060, B, 80)))
        .isEqualTo(TC_ACT_SHOT));

    assertThat(ev).isEmpty();
    assertThat(svc.packets(MetricsKey.REASON_POLICY_DENIED, MetricsKey.DIR_INGRESS)).isEqualTo(1);
  }

  @Test
  void pol_11_podReachingItselfThroughItsServiceIsNotSubjectToItsPolicy(NetnsLab lab) {
    load(lab);
    svc.backend(1, A, 8080, Protocol.TCP);
    svc.frontend(VIP, 80, Protocol.TCP, 9, 1);
    isolate(EP_A, EndpointPolicy.F_EGRESS_ISOLATED | EndpointPolicy.F_INGRESS_ISOLATED);

    BpfProgram.TestRun out = from.testRun(syn(A, 40070, VIP, 80), 1);
    assertThat(out.retval()).as("hairpin SYN out").isEqualTo(TC_ACT_OK);
    PacketView hairpinned = PacketView.of(out.dataOut());
    assertThat(hairpinned.src()).isEqualTo(HAIRPIN);
    assertThat(hairpinned.dst()).isEqualTo(A);
    assertThat(ingress(out.dataOut())).as("hairpin SYN in").isEqualTo(TC_ACT_OK);
    BpfProgram.TestRun reply = from.testRun(
        Frame4.tcp(A, 8080, HAIRPIN, 40070, TCP_SYN | TCP_ACK).build(), 1);
    assertThat(reply.retval()).as("SYN-ACK out").isEqualTo(TC_ACT_OK);
    assertThat(PacketView.of(reply.dataOut()).src()).isEqualTo(VIP);
    assertThat(ingress(reply.dataOut())).as("SYN-ACK in from the VIP").isEqualTo(TC_ACT_OK);

    assertThat(ingress(syn(HAIRPIN, 40071, A, 8080))).as("hairpin source without a connection")
        .isEqualTo(TC_ACT_SHOT);
  }

  @Test
  void pol_12_nodeReachesIsolatedPodsThroughTheHostEntry(NetnsLab lab) {
    load(lab);
    isolate(EP_B, EndpointPolicy.F_INGRESS_ISOLATED | EndpointPolicy.F_EGRESS_ISOLATED);
    allow(PolicyKey.allPorts(EP_B, Ipcache4Value.IDENTITY_HOST, INGRESS), 0);
    allow(PolicyKey.allPorts(EP_B, Ipcache4Value.IDENTITY_HOST, EGRESS), 0);

    assertThat(ingress(syn(NODE, 40080, B, 8080))).as("node -> B").isEqualTo(TC_ACT_OK);
    assertThat(egress(syn(B, 40081, NODE, 10250))).as("B -> node").isEqualTo(TC_ACT_OK);
    assertThat(ingress(syn(A, 40082, B, 8080))).as("A -> B").isEqualTo(TC_ACT_SHOT);
  }

  @Test
  void pol_13_policyChangeKeepsTrackedConnectionsAndStopsNewOnes(NetnsLab lab) {
    load(lab);
    byte[] data = Frame4.tcp(A, 40090, B, 80, TCP_ACK).payload(10).build();
    assertThat(ingress(syn(A, 40090, B, 80))).isEqualTo(TC_ACT_OK);

    isolate(EP_B, EndpointPolicy.F_INGRESS_ISOLATED); // deny-all ingress arrives

    assertThat(ingress(data)).as("established connection").isEqualTo(TC_ACT_OK);
    assertThat(ingress(syn(A, 40091, B, 80))).as("new connection").isEqualTo(TC_ACT_SHOT);
    // A pure SYN reopening the tuple after the connection closed is a new connection.
    assertThat(ingress(Frame4.tcp(A, 40090, B, 80, Packets.TCP_RST).build())).isEqualTo(TC_ACT_OK);
    assertThat(ingress(syn(A, 40090, B, 80))).as("reopened tuple").isEqualTo(TC_ACT_SHOT);
  }

  @Test
  void pol_14_verdictEventsTheFullRingBufferCannotTakeAreCounted(NetnsLab lab) {
    load(lab);
    isolate(EP_B, EndpointPolicy.F_INGRESS_ISOLATED);

    // 48-byte events (+ 8 bytes of header) in a 4 MiB ring nobody reads: ~75,000 fit
    BpfProgram.TestRun flood = to.testRun(syn(C, 40100, B, 80), 100_000);

    assertThat(flood.retval()).isEqualTo(TC_ACT_SHOT);
    assertThat(svc.packets(MetricsKey.REASON_VERDICT_EVENT_LOST, MetricsKey.DIR_INGRESS))
        .isBetween(1L, 100_000L);
  }

  @Test
  void aLaterFragmentIsJudgedWithItsFirstFragmentsPorts(NetnsLab lab) {
    load(lab);
    isolate(EP_B, EndpointPolicy.F_INGRESS_ISOLATED);
    allow(port(EP_B, 0, INGRESS, Protocol.UDP, 53), 3);

    assertThat(ingress(Packets.fragment(Packets.udp4(C, 5001, B, 53, 32), 41, true, 0)))
        .as("first fragment, allowed port").isEqualTo(TC_ACT_OK);
    assertThat(ingress(Packets.fragment(Packets.udp4(C, 5002, B, 8080, 32), 42, true, 0)))
        .as("first fragment, denied port").isEqualTo(TC_ACT_SHOT);
    // the bytes where a later fragment's ports would be are payload: the note decides
    assertThat(ingress(Packets.fragment(Packets.udp4(C, 1, B, 53, 32), 42, false, 5)))
        .as("later fragment of the denied datagram").isEqualTo(TC_ACT_SHOT);
    assertThat(ingress(Packets.fragment(Packets.udp4(C, 1, B, 8080, 32), 41, false, 5)))
        .as("later fragment of the allowed datagram").isEqualTo(TC_ACT_OK);
  }

  @Test
  void laterFragmentsOfTwoDatagramsSharingAnIpIdAreNeverJudgedWithTheOthersPorts(NetnsLab lab) {
    // two senders behind one SNAT address: their IP ids may meet on one (source, destination)
    load(lab);
    isolate(EP_B, EndpointPolicy.F_INGRESS_ISOLATED);
    allow(port(EP_B, 0, INGRESS, Protocol.UDP, 53), 3);
    String snat = "198.18.255.2";
    assertThat(ingress(Packets.fragment(Packets.udp4(snat, 61001, B, 53, 32), 77, true, 0)))
        .as("datagram 1 (port 53), first fragment").isEqualTo(TC_ACT_OK);
    assertThat(ingress(Packets.fragment(Packets.udp4(snat, 61002, B, 8080, 32), 77, true, 0)))
        .as("datagram 2 (port 8080), first fragment").isEqualTo(TC_ACT_SHOT);

    assertThat(ingress(Packets.fragment(Packets.udp4(snat, 1, B, 1, 32), 77, false, 5)))
        .as("datagram 1's later fragment: passed as it came, not denied as port 8080")
        .isEqualTo(TC_ACT_OK);
  }

  @Test
  void aDeniedFragmentedDatagramIsReportedOnce(NetnsLab lab) {
    load(lab);
    isolate(EP_B, EndpointPolicy.F_INGRESS_ISOLATED);

    List<Event> reported = events(() -> {
      ingress(Packets.fragment(Packets.udp4(C, 5000, B, 8080, 32), 99, true, 0));
      for (int i = 1; i <= 3; i++) {
        ingress(Packets.fragment(Packets.udp4(C, 1, B, 1, 32), 99, i < 3, 5 * i));
      }
    });

    assertThat(reported).as("verdict events").hasSize(1);
  }
}
