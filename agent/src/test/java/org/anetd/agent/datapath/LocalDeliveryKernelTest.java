package org.anetd.agent.datapath;

import static org.anetd.agent.testing.PodNetwork.echo;
import static org.anetd.agent.testing.PodNetwork.exchange;
import static org.anetd.agent.testing.PodNetwork.readLine;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.anetd.agent.bpf.BpfObject;
import org.anetd.agent.bpf.NetworkNamespace;
import org.anetd.agent.bpf.RingBuffer;
import org.anetd.agent.endpoint.BpfEndpointDatapath;
import org.anetd.agent.endpoint.Endpoint;
import org.anetd.agent.testing.EbpfObjects;
import org.anetd.agent.testing.KernelTest;
import org.anetd.agent.testing.NetnsLab;
import org.anetd.agent.testing.PodNetwork;
import org.anetd.agent.testing.PodNetwork.Pod;
import org.anetd.agent.testing.Shell;
import org.junit.jupiter.api.Test;

/**
 * Local delivery (ebpf/include/lxc.h): traffic between two pods of one node, to a pod IP or
 * through a ClusterIP, goes from the sender's from_container straight to the receiver
 * (bpf_redirect_peer), never through the node's IP stack, with the receiver's ingress policy
 * enforced on the way. Pods are attached with the agent's code, which writes their anetd_lxc
 * entries (see {@link PodNetwork}).
 *
 * <p>Proof that the node's stack did not route a packet: an nftables rule in the node's forward
 * chain counts every packet routed to a pod address; it stays 0 on the fast path.
 *
 * <pre>
 *  netns client 198.18.0.2   pod-a 198.18.0.3   pod-b 198.18.0.4  (socat on TCP 8080, UDP 5353)
 *  netns node: hv-client, hv-a, hv-b with bpf_lxc; table ip probe, chain routed: counter
 *  Service 198.19.0.10:80/TCP -> :8080
 * </pre>
 */
@KernelTest
class LocalDeliveryKernelTest {
  private static final String VIP = "198.19.0.10";
  private static final String HAIRPIN = "169.254.42.1";
  private static final String CLIENT = "198.18.0.2";
  private static final String POD_A = "198.18.0.3";
  private static final String POD_B = "198.18.0.4";
  private static final int REV_NAT = 1;
  private static final Pattern PACKETS = Pattern.compile("counter packets (\\d+)");

  private static final class Node {
    final BpfObject lxc;
    final LxcWriter lxcWriter;
    final PodNetwork net;
    final NetnsLab.Netns ns;
    final ServiceMaps maps;

    Node(NetnsLab lab) {
      lxc = BpfObject.openFile(EbpfObjects.path("bpf_lxc.o"));
      lab.onClose(lxc::close);
      lxc.pinMapsUnder(lab.bpffsDir("local")).load();
      lxcWriter = new LxcWriter(MapBackend.of(lxc.map(Datapath.LXC)));
      net = new PodNetwork(lab, lxcWriter);
      ns = net.node();
      maps = new ServiceMaps(lxc);
      ns.run("nft", "add table ip probe");
      ns.run("nft", "add chain ip probe routed { type filter hook forward priority 0; }");
      ns.run("nft", "add rule ip probe routed ip daddr 198.18.0.0/24 counter");
    }

    Pod pod(String name, String ip) {
      return net.pod(name, ip, lxc.program("from_container"), lxc.program("to_container"));
    }

    Pod backend(String name, String ip) {
      return net.backend(name, ip, lxc.program("from_container"), lxc.program("to_container"));
    }

    PolicyWriter policyWriter() {
      return new PolicyWriter(MapBackend.of(lxc.map(Datapath.POLICY)),
          MapBackend.of(lxc.map(Datapath.ENDPOINTS)), MapBackend.of(lxc.map(Datapath.IPCACHE4)));
    }

    /** Packets the node's stack forwarded to a pod address. */
    long routedByTheNode() {
      Matcher m = PACKETS.matcher(ns.run("nft", "list chain ip probe routed"));
      assertThat(m.find()).as("the probe counter").isTrue();
      return Long.parseLong(m.group(1));
    }
  }

  @Test
  void local_1_podToPodTcpAndUdpTakeTheRedirectBothWays(NetnsLab lab) throws Exception {
    Node node = new Node(lab);
    Pod client = node.pod("client", CLIENT);
    node.backend("pod-a", POD_A);

    try (Socket s = client.connect(POD_A, 8080)) {
      assertThat(readLine(s)).isEqualTo("pod-a " + CLIENT);
      assertThat(echo(s, "over the fast path")).isEqualTo("over the fast path");
    }
    try (DatagramSocket s = client.udp(POD_A, 5353)) {
      assertThat(exchange(s, "ping")).isEqualTo("pod-a " + CLIENT);
    }

    assertThat(node.routedByTheNode()).as("packets the node's stack routed to pods").isZero();
    assertThat(node.maps.packets(MetricsKey.REASON_FORWARDED, MetricsKey.DIR_INGRESS))
        .as("deliveries counted as to_container counts them").isPositive();
  }

  @Test
  void local_2_podToServiceToPodTakesTheRedirectAndRepliesComeFromTheVip(NetnsLab lab)
      throws Exception {
    Node node = new Node(lab);
    Pod client = node.pod("client", CLIENT);
    node.backend("pod-a", POD_A);
    node.backend("pod-b", POD_B);
    node.maps.backend(1, POD_A, 8080, Protocol.TCP);
    node.maps.backend(2, POD_B, 8080, Protocol.TCP);
    node.maps.frontend(VIP, 80, Protocol.TCP, REV_NAT, 1, 2);

    for (int i = 0; i < 10; i++) {
      // connected to the VIP: a reply from any other address would not match the socket
      try (Socket s = client.connect(VIP, 80)) {
        assertThat(readLine(s)).matches("pod-[ab] 198\\.18\\.0\\.2");
        assertThat(echo(s, "line " + i)).isEqualTo("line " + i);
      }
    }

    assertThat(node.routedByTheNode()).as("packets the node's stack routed to pods").isZero();
  }

  @Test
  void local_3_ingressDenyOfTheDestinationDropsOnTheFastPathAndIsReported(NetnsLab lab)
      throws Exception {
    Node node = new Node(lab);
    Pod client = node.pod("client", CLIENT);
    node.backend("pod-a", POD_A);
    PolicyWriter policy = node.policyWriter();
    Map<Ipcache4Key, Ipcache4Value> ipcache = new TreeMap<>(
        org.anetd.agent.policy.IpcacheCompiler.ORDER);
    ipcache.put(Ipcache4Key.host(Ipv4.parse(CLIENT)), new Ipcache4Value(1001, Ipv4.ANY, 1));
    ipcache.put(Ipcache4Key.host(Ipv4.parse(POD_A)), new Ipcache4Value(1002, Ipv4.ANY, 2));
    Map<PolicyKey, PolicyEntry> entries = new TreeMap<>(
        org.anetd.agent.policy.PolicyCompiler.KEY_ORDER);
    Map<Long, EndpointPolicy> endpoints = new TreeMap<>(Map.of(1L, new EndpointPolicy(1001, 0),
        2L, new EndpointPolicy(1002, EndpointPolicy.F_INGRESS_ISOLATED)));
    policy.write(entries, endpoints, ipcache);

    // pod-a isolates ingress and allows nobody
    List<Event> denied = events(node, () -> assertThatThrownBy(() -> client.connect(POD_A, 8080))
        .isInstanceOf(UncheckedIOException.class));

    assertThat(denied).anySatisfy(e -> {
      assertThat(e.type()).isEqualTo(Event.TYPE_POLICY_VERDICT);
      assertThat(e.direction()).isEqualTo(MetricsKey.DIR_INGRESS);
      assertThat(e.allowed()).isFalse();
      assertThat(e.endpointId()).isEqualTo(2);
      assertThat(e.remoteIdentity()).isEqualTo(1001);
      assertThat(e.daddr()).isEqualTo(Ipv4.parse(POD_A));
    });
    assertThat(node.maps.packets(MetricsKey.REASON_POLICY_DENIED, MetricsKey.DIR_INGRESS))
        .isPositive();

    entries.put(PolicyKey.portPrefix(2, 1001, PolicyKey.DIR_INGRESS, Protocol.TCP, 8080, 16),
        new PolicyEntry(7, PolicyEntry.VERDICT_ALLOW, false));
    policy.write(entries, endpoints, ipcache);
    List<Event> allowed = events(node, () -> assertThat(client.greeting(POD_A, 8080))
        .isEqualTo("pod-a " + CLIENT));

    assertThat(allowed).anySatisfy(e -> {
      assertThat(e.direction()).isEqualTo(MetricsKey.DIR_INGRESS);
      assertThat(e.allowed()).isTrue();
      assertThat(e.policySetId()).isEqualTo(7);
    });
    assertThat(node.maps.conntrack(Protocol.TCP)).as("the receiver's policy entry")
        .anySatisfy((k, e) -> {
          assertThat(k.flags()).isEqualTo(Ct4Key.F_POL_TX);
          assertThat(k.saddr()).isEqualTo(Ipv4.parse(POD_A));
          assertThat(e.flags() & Ct4Entry.F_REPLY_DIR).as("opened by the client").isNotZero();
        });
    assertThat(node.routedByTheNode()).as("packets the node's stack routed to pods").isZero();
  }

  @Test
  void local_4_hairpinThroughItsOwnServiceStillWorks(NetnsLab lab) {
    Node node = new Node(lab);
    Pod a = node.backend("pod-a", POD_A);
    node.maps.backend(1, a.ip(), 8080, Protocol.TCP);
    node.maps.frontend(VIP, 80, Protocol.TCP, REV_NAT, 1);

    for (int i = 0; i < 5; i++) {
      assertThat(a.greeting(VIP, 80)).as("connection %d", i).isEqualTo("pod-a " + HAIRPIN);
    }
    assertThat(node.routedByTheNode()).as("hairpin takes the node's stack").isPositive();
  }

  @Test
  void local_5_podWithoutAnLxcEntryIsReachedThroughTheNodeStack(NetnsLab lab) throws Exception {
    Node node = new Node(lab);
    Pod client = node.pod("client", CLIENT);
    node.backend("pod-a", POD_A);
    node.lxcWriter.remove(Ipv4.parse(POD_A));

    try (Socket s = client.connect(POD_A, 8080)) {
      assertThat(readLine(s)).isEqualTo("pod-a " + CLIENT);
      assertThat(echo(s, "via the stack")).isEqualTo("via the stack");
    }

    assertThat(node.routedByTheNode()).as("client -> pod-a took the node's stack").isPositive();
  }

  @Test
  void local_6_restartSyncRemovesEntriesOfEndpointsThatAreGone(NetnsLab lab) {
    Node node = new Node(lab);
    Pod client = node.pod("client", CLIENT);
    node.backend("pod-a", POD_A);
    // An endpoint deleted while no agent ran: its entry names an interface that no longer exists.
    Lxc4Info stale = new Lxc4Info(99_999, 9, "02:00:00:00:00:09", "02:00:00:00:00:0a");
    node.lxcWriter.put(Ipv4.parse(POD_B), stale);
    Map<Ipv4, Lxc4Info> live = node.lxcWriter.entries();

    // The restarted agent's datapath adopts the map, re-attaches the survivors, drops the rest.
    LxcWriter restarted = new LxcWriter(MapBackend.of(node.lxc.map(Datapath.LXC)));
    BpfEndpointDatapath datapath = new BpfEndpointDatapath(node.lxc.program("from_container"),
        node.lxc.program("to_container"), node.ns.path(), null, restarted, List.of());
    List<Endpoint> survivors = new ArrayList<>();
    for (String[] p : List.of(new String[] {"hv-client", CLIENT}, new String[] {"hv-a", POD_A})) {
      Lxc4Info info = live.get(Ipv4.parse(p[1]));
      survivors.add(new Endpoint(info.endpointId(),
          new org.anetd.agent.endpoint.AttachmentKey("c-" + p[0], "eth0"),
          org.anetd.agent.endpoint.PodRef.UNKNOWN, Ipv4.parse(p[1]), p[0], info.ifindex(),
          info.nodeMac(), info.mac(), ""));
    }
    survivors.forEach(datapath::reattach);
    datapath.retainOnly(survivors);

    assertThat(restarted.entries()).containsOnlyKeys(Ipv4.parse(CLIENT), Ipv4.parse(POD_A));
    assertThat(node.lxc.map(Datapath.LXC).entries()).hasSize(2);
    int ifindexA = node.ns.call(() -> NetworkNamespace.ifindex("hv-a"));
    assertThat(restarted.find(Ipv4.parse(POD_A)).orElseThrow().ifindex()).isEqualTo(ifindexA);
    assertThat(client.greeting(POD_A, 8080)).isEqualTo("pod-a " + CLIENT);
    assertThat(node.routedByTheNode()).isZero();
  }

  /** Runs {@code action}, then returns the events it left on the ring buffer. */
  @Test
  void local_7_theTtlDropsByOneAsIfRoutedAndTtlOneGetsTimeExceededFromTheNode(NetnsLab lab) {
    Node node = new Node(lab);
    Pod client = node.pod("client", CLIENT);
    Pod a = node.pod("pod-a", POD_A);
    a.ns().run("nft", "add table ip probe");
    a.ns().run("nft", "add chain ip probe in { type filter hook input priority 0; }");
    a.ns().run("nft", "add rule ip probe in icmp type echo-request ip ttl 63 counter");

    String reply = client.ns().run("ping", "-c", "1", "-W", "2", "-t", "64", POD_A);
    Matcher requests = PACKETS.matcher(a.ns().run("nft", "list chain ip probe in"));

    assertThat(reply).as("the reply, decremented by pod-a's from_container").contains("ttl=63");
    assertThat(requests.find() && Long.parseLong(requests.group(1)) == 1)
        .as("the request arrived with TTL 63").isTrue();
    assertThat(node.routedByTheNode()).as("both went the fast path").isZero();

    Shell.Result expired = client.ns().exec(10, "ping", "-c", "1", "-W", "2", "-t", "1", POD_A);
    assertThat(expired.output()).as("TTL 1 is the node's to answer")
        .containsIgnoringCase("time to live exceeded");
  }

  @Test
  void local_8_trackedPodsReachServicesAndPodsAndOnlyConnectionsToPodsMayTakeTheFastPath(
      NetnsLab lab) throws Exception {
    Node node = new Node(lab);
    Pod client = node.pod("client", CLIENT);
    node.backend("pod-a", POD_A);
    node.backend("pod-b", POD_B);
    trackWithoutPolicy(node, CLIENT, POD_A, POD_B);
    node.maps.backend(1, POD_A, 8080, Protocol.TCP);
    node.maps.backend(2, POD_B, 8080, Protocol.TCP);
    node.maps.frontend(VIP, 80, Protocol.TCP, REV_NAT, 1, 2);

    for (int i = 0; i < 10; i++) {
      try (Socket s = client.connect(VIP, 80)) {
        assertThat(readLine(s)).matches("pod-[ab] 198\\.18\\.0\\.2");
        assertThat(echo(s, "line " + i)).isEqualTo("line " + i);
      }
      assertThat(client.greeting(POD_A, 8080)).isEqualTo("pod-a " + CLIENT);
    }

    Map<Ct4Key, Ct4Entry> ct = node.maps.conntrack(Protocol.TCP);
    assertThat(ct).as("the client's entries of its service connections").anySatisfy((k, e) -> {
      assertThat(k.flags()).isEqualTo(Ct4Key.F_POL_TX);
      assertThat(k.daddr()).isEqualTo(Ipv4.parse(VIP));
      assertThat(e.flags() & Ct4Entry.F_NO_XLATE).isZero();
    });
    assertThat(ct).as("the backends' entries of service connections: replies translated back")
        .anySatisfy((k, e) -> {
          assertThat(k.flags()).isEqualTo(Ct4Key.F_POL_TX);
          assertThat(k.sport()).isEqualTo(8080);
          assertThat(k.daddr()).isEqualTo(Ipv4.parse(CLIENT));
          assertThat(e.flags() & Ct4Entry.F_NO_XLATE).isZero();
        });
    assertThat(ct).as("the client's entries of its connections straight to pod-a")
        .anySatisfy((k, e) -> {
          assertThat(k.flags()).isEqualTo(Ct4Key.F_POL_TX);
          assertThat(k.daddr()).isEqualTo(Ipv4.parse(POD_A));
          assertThat(e.flags() & Ct4Entry.F_NO_XLATE).isNotZero();
        });
    assertThat(node.routedByTheNode()).as("packets the node's stack routed to pods").isZero();
  }

  @Test
  void local_9_aUdpFlowThatMovesFromThePodAddressToItsServiceGetsRepliesFromTheVip(NetnsLab lab)
      throws Exception {
    Node node = new Node(lab);
    Pod client = node.pod("client", CLIENT);
    node.backend("pod-a", POD_A);
    trackWithoutPolicy(node, CLIENT, POD_A);
    node.maps.backend(1, POD_A, 5353, Protocol.UDP);
    node.maps.frontend(VIP, 53, Protocol.UDP, REV_NAT, 1);

    try (DatagramSocket s = client.udp(POD_A, 5353)) {
      assertThat(exchange(s, "straight")).isEqualTo("pod-a " + CLIENT);
      // pod-a now tracks (pod-a:5353 -> client:port) as a flow of its own; the same client port
      // then sends to the service: pod-a's replies must be translated back to the VIP, or the
      // socket, connected to the VIP, never sees them
      SocketAddress local = s.getLocalSocketAddress();
      s.disconnect();
      s.connect(new InetSocketAddress(VIP, 53)); // the socket stays in the pod's namespace
      assertThat(s.getLocalSocketAddress()).isEqualTo(local);
      assertThat(exchange(s, "through the service")).isEqualTo("pod-a " + CLIENT);
    }
  }

  @Test
  void local_10_aUdpFlowThatBeganBeforeItsServiceExistedIsTranslatedOnceItDoes(NetnsLab lab)
      throws Exception {
    Node node = new Node(lab);
    Pod client = node.pod("client", CLIENT);
    node.backend("pod-a", POD_A);
    trackWithoutPolicy(node, CLIENT, POD_A);
    InetSocketAddress vip = new InetSocketAddress(VIP, 53);
    // unconnected: an ICMP error for the first datagram is not reported to the next receive
    try (DatagramSocket s = client.ns().call(() -> new DatagramSocket(new InetSocketAddress(0)))) {
      s.setSoTimeout(3000);
      byte[] early = "too early".getBytes(StandardCharsets.US_ASCII);
      s.send(new DatagramPacket(early, early.length, vip)); // no frontend yet: goes nowhere

      node.maps.backend(1, POD_A, 5353, Protocol.UDP);
      node.maps.frontend(VIP, 53, Protocol.UDP, REV_NAT, 1);
      byte[] now = "now".getBytes(StandardCharsets.US_ASCII);
      s.send(new DatagramPacket(now, now.length, vip));
      DatagramPacket in = new DatagramPacket(new byte[512], 512);
      s.receive(in);

      assertThat(in.getSocketAddress()).as("answered from the service").isEqualTo(vip);
      assertThat(new String(in.getData(), 0, in.getLength(), StandardCharsets.US_ASCII).strip())
          .isEqualTo("pod-a " + CLIENT);
    }
  }

  /** Every given pod a local endpoint of the node (ipcache), none isolated: all tracked. */
  private static void trackWithoutPolicy(Node node, String... ips) {
    PolicyWriter policy = node.policyWriter();
    Map<Ipcache4Key, Ipcache4Value> ipcache = new TreeMap<>(
        org.anetd.agent.policy.IpcacheCompiler.ORDER);
    Map<Long, EndpointPolicy> endpoints = new TreeMap<>();
    for (int i = 0; i < ips.length; i++) {
      ipcache.put(Ipcache4Key.host(Ipv4.parse(ips[i])), new Ipcache4Value(1001 + i, Ipv4.ANY,
          i + 1));
      endpoints.put(i + 1L, new EndpointPolicy(1001 + i, 0));
    }
    policy.write(new TreeMap<>(org.anetd.agent.policy.PolicyCompiler.KEY_ORDER), endpoints,
        ipcache);
  }

  private static List<Event> events(Node node, Runnable action) {
    List<Event> out = new ArrayList<>();
    try (RingBuffer rb = RingBuffer.open(node.lxc.map(Datapath.EVENTS),
        r -> out.add(EventCodec.INSTANCE.decode(r)))) {
      rb.poll(0);
      out.clear();
      action.run();
      rb.poll(100);
    }
    return out;
  }
}
