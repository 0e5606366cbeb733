package org.anetd.agent.datapath;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.anetd.agent.testing.PodNetwork.echo;
import static org.anetd.agent.testing.PodNetwork.readLine;
import static org.anetd.agent.testing.PodNetwork.exchange;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.PortUnreachableException;
import java.net.Socket;
import java.time.Duration;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.anetd.agent.bpf.BpfObject;
import org.anetd.agent.testing.EbpfObjects;
import org.anetd.agent.testing.KernelTest;
import org.anetd.agent.testing.NetnsLab;
import org.anetd.agent.testing.PodNetwork;
import org.anetd.agent.testing.PodNetwork.Pod;
import org.anetd.agent.testing.Shell;
import org.junit.jupiter.api.Test;

/**
 * Real traffic to a ClusterIP through bpf_lxc on every pod veth: no kube-proxy, no iptables.
 *
 * <pre>
 *  netns client 198.18.0.2/32   netns pod-a 198.18.0.3/32   netns pod-b 198.18.0.4/32
 *        eth0                         eth0                        eth0
 *   default via 169.254.1.1      (socat servers: TCP 8080 "name peer; echo", UDP 5353 "name peer")
 *         ||                           ||                          ||
 *       hv-client                     hv-a                        hv-b      tc ingress: from_container
 *  netns node: ip_forward=1, proxy_arp=1 on hv-*, 198.18.0.X/32 dev hv-X    tc egress:  to_container
 *       up0 (default route) ==veth== eth0 netns world (where unknown destinations end)
 *
 *  Service 198.19.0.10:80/TCP -> :8080, 198.19.0.10:53/UDP -> :5353 (written like the agent will)
 * </pre>
 */
@KernelTest
class ServiceTrafficKernelTest {
  private static final String VIP = "198.19.0.10";
  private static final String HAIRPIN = "169.254.42.1";
  private static final int TCP_REV_NAT = 1;
  private static final int UDP_REV_NAT = 2;
  private static final Duration FAST = Duration.ofSeconds(1);

  /** The pod network of {@link PodNetwork} with bpf_lxc on every pod veth and its service maps. */
  private static final class Node {
    final PodNetwork net;
    final NetnsLab.Netns ns;
    final BpfObject lxc;
    final ServiceMaps maps;

    Node(NetnsLab lab) {
      lxc = BpfObject.openFile(EbpfObjects.path("bpf_lxc.o"));
      lab.onClose(lxc::close);
      lxc.pinMapsUnder(lab.bpffsDir("svc")).load();
      maps = new ServiceMaps(lxc);
      // pods attached as the agent attaches them: local delivery between them is on
      net = new PodNetwork(lab, new LxcWriter(MapBackend.of(lxc.map(Datapath.LXC))));
      ns = net.node();
    }

    Pod pod(String name, String ip) {
      return net.pod(name, ip, lxc.program("from_container"), lxc.program("to_container"));
    }

    Pod backend(String name, String ip) {
      return net.backend(name, ip, lxc.program("from_container"), lxc.program("to_container"));
    }

    /**
     * A pod of another node with address {@code ip}, reached through the uplink: the world
     * netns, which routes the node's pods back to it (the node answers ARP for them there).
     */
    NetnsLab.Netns podOnAnotherNode(String ip) {
      NetnsLab.Netns otherNode = net.world();
      otherNode.ip("addr", "add", ip + "/32", "dev", "eth0");
      otherNode.ip("route", "add", "198.18.0.0/24", "dev", "eth0");
      ns.run("sysctl", "-qw", "net.ipv4.conf.up0.proxy_arp=1");
      return otherNode;
    }

    /** The VIP's TCP port 80 and UDP port 53 as frontends without backends. */
    void withoutBackends() {
      maps.frontend(new Lb4Key(Ipv4.parse(VIP), 80, Protocol.TCP, Lb4Key.SCOPE_EXTERNAL, 0),
          TCP_REV_NAT, Lb4Service.F_NO_BACKENDS, 0);
      maps.frontend(new Lb4Key(Ipv4.parse(VIP), 53, Protocol.UDP, Lb4Key.SCOPE_EXTERNAL, 0),
          UDP_REV_NAT, Lb4Service.F_NO_BACKENDS, 0);
    }
  }

  @Test
  void svc_1_tcpConnectionsToTheClusterIpReachBothBackendsAndRepliesComeFromTheVip(
      NetnsLab lab) {
    Node node = new Node(lab);
    Pod client = node.pod("client", "198.18.0.2");
    node.backend("pod-a", "198.18.0.3");
    node.backend("pod-b", "198.18.0.4");
    node.maps.backend(1, "198.18.0.3", 8080, Protocol.TCP);
    node.maps.backend(2, "198.18.0.4", 8080, Protocol.TCP);
    node.maps.frontend(VIP, 80, Protocol.TCP, TCP_REV_NAT, 1, 2);

    Set<String> seen = new HashSet<>();
    for (int i = 0; i < 30; i++) {
      // The socket is connected to the VIP: a SYN-ACK from any other address would not match it.
      String greeting = client.greeting(VIP, 80);
      assertThat(greeting).as("backend name and the client address it saw")
          .matches("pod-[ab] 198\\.18\\.0\\.2");
      seen.add(greeting.split(" ")[0]);
    }

    assertThat(seen).containsExactlyInAnyOrder("pod-a", "pod-b");
    assertThat(node.maps.packets(MetricsKey.REASON_FORWARDED, MetricsKey.DIR_INGRESS))
        .isPositive();
  }

  @Test
  void svc_2_serviceWithoutBackendsIsRefusedAtOnce(NetnsLab lab) throws Exception {
    Node node = new Node(lab);
    Pod client = node.pod("client", "198.18.0.2");
    node.withoutBackends();

    assertRefusedAtOnce(client);
    assertThat(node.maps.packets(MetricsKey.REASON_NO_SERVICE_BACKEND, MetricsKey.DIR_EGRESS))
        .isGreaterThanOrEqualTo(3);
  }

  @Test
  void svc_9_ingressIsolatedPodIsRefusedAtOnceToo(NetnsLab lab) throws Exception {
    // Any NetworkPolicy selecting the client with policyTypes [Ingress] isolates it; the refusal
    // answers a connection the client opened, which its ingress policy must never judge.
    Node node = new Node(lab);
    Pod client = node.pod("client", "198.18.0.2"); // endpoint 1, as PodNetwork numbers them
    new PolicyWriter(MapBackend.of(node.lxc.map(Datapath.POLICY)),
        MapBackend.of(node.lxc.map(Datapath.ENDPOINTS)),
        MapBackend.of(node.lxc.map(Datapath.IPCACHE4))).write(Map.of(),
        Map.of(1L, new EndpointPolicy(300, EndpointPolicy.F_INGRESS_ISOLATED)),
        Map.of(Ipcache4Key.host(Ipv4.parse(client.ip())),
            new Ipcache4Value(300, Ipv4.ANY, 1)));
    node.withoutBackends();

    assertRefusedAtOnce(client);
    assertThat(node.maps.packets(MetricsKey.REASON_POLICY_DENIED, MetricsKey.DIR_INGRESS))
        .as("refusals dropped by the client's ingress policy").isZero();
  }

  /** TCP (connect, and nc) and UDP to the VIP are refused within FAST, never timed out. */
  private static void assertRefusedAtOnce(Pod client) throws Exception {
    long start = System.nanoTime();
    assertThatThrownBy(() -> client.connect(VIP, 80)).hasRootCauseInstanceOf(ConnectException.class)
        .hasRootCauseMessage("Connection refused");
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(FAST);

    start = System.nanoTime();
    Shell.Result nc = client.ns().exec(10, "nc", "-vz", "-w", "3", VIP, "80");
    assertThat(nc.exitCode()).isNotZero();
    assertThat(nc.output()).contains("Connection refused");
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(FAST);

    try (DatagramSocket s = client.udp(VIP, 53)) {
      long udpStart = System.nanoTime();
      assertThatThrownBy(() -> exchange(s, "anyone?"))
          .isInstanceOf(PortUnreachableException.class);
      assertThat(Duration.ofNanos(System.nanoTime() - udpStart)).isLessThan(FAST);
    }
  }

  @Test
  void svc_3_podReachesItselfThroughItsOwnService20TimesWithoutLeakingConntrack(NetnsLab lab) {
    Node node = new Node(lab);
    Pod a = node.backend("pod-a", "198.18.0.3");
    node.maps.backend(1, a.ip(), 8080, Protocol.TCP);
    node.maps.frontend(VIP, 80, Protocol.TCP, TCP_REV_NAT, 1);

    for (int i = 0; i < 20; i++) {
      assertThat(a.greeting(VIP, 80)).as("connection %d", i)
          .isEqualTo("pod-a " + HAIRPIN); // the server saw the hairpin address, not itself
    }

    Map<Ct4Key, Ct4Entry> ct = node.maps.conntrack(Protocol.TCP);
    assertThat(ct).as("two entries per connection at most").hasSizeLessThanOrEqualTo(40);
    assertThat(ct.values()).allSatisfy(e -> {
      assertThat(e.backendId()).isEqualTo(1);
      assertThat(e.flags() & Ct4Entry.F_SNAT).isNotZero();
    });
  }

  @Test
  void svc_4_udpFlowReachesALiveBackendAfterItsBackendIsReplaced(NetnsLab lab)
      throws Exception {
    Node node = new Node(lab);
    Pod client = node.pod("client", "198.18.0.2");
    node.backend("pod-a", "198.18.0.3");
    node.backend("pod-b", "198.18.0.4");
    node.maps.backend(1, "198.18.0.3", 5353, Protocol.UDP);
    node.maps.frontend(VIP, 53, Protocol.UDP, UDP_REV_NAT, 1);

    try (DatagramSocket s = client.udp(VIP, 53)) { // one socket: one source port, one flow
      assertThat(exchange(s, "1")).isEqualTo("pod-a 198.18.0.2");

      // The agent replaces the backend: new backend, slots, then the old backend and its
      // conntrack entries go.
      node.maps.backend(2, "198.18.0.4", 5353, Protocol.UDP);
      node.maps.frontend(VIP, 53, Protocol.UDP, UDP_REV_NAT, 2);
      node.maps.deleteBackend(1);
      assertThat(node.maps.purgeConntrack(1)).isEqualTo(2);

      assertThat(exchange(s, "2")).isEqualTo("pod-b 198.18.0.2");
      assertThat(s.getInetAddress()).isEqualTo(InetAddress.getByName(VIP));
    }
  }

  @Test
  void svc_5_establishedTcpSurvivesRemovalOfTheOtherBackendAndItsOwnTermination(NetnsLab lab)
      throws Exception {
    Node node = new Node(lab);
    Pod client = node.pod("client", "198.18.0.2");
    node.backend("pod-a", "198.18.0.3");
    node.backend("pod-b", "198.18.0.4");
    node.maps.backend(1, "198.18.0.3", 8080, Protocol.TCP);
    node.maps.backend(2, "198.18.0.4", 8080, Protocol.TCP);
    node.maps.frontend(VIP, 80, Protocol.TCP, TCP_REV_NAT, 1, 2);

    try (Socket s = client.connect(VIP, 80)) {
      String greeting = readLine(s);
      long mine = greeting.startsWith("pod-a") ? 1 : 2;
      long other = 3 - mine;
      String mineIp = mine == 1 ? "198.18.0.3" : "198.18.0.4";
      assertThat(echo(s, "before")).isEqualTo("before");

      // The other backend goes away (slots, backend, its conntrack entries) ...
      node.maps.frontend(VIP, 80, Protocol.TCP, TCP_REV_NAT, mine);
      node.maps.deleteBackend(other);
      node.maps.purgeConntrack(other);
      assertThat(echo(s, "other backend removed")).isEqualTo("other backend removed");

      // ... then ours terminates: state TERMINATING and out of the slots (none left).
      node.maps.backend(mine, mineIp, 8080, Protocol.TCP, Lb4Backend.STATE_TERMINATING);
      node.maps.frontend(new Lb4Key(Ipv4.parse(VIP), 80, Protocol.TCP, Lb4Key.SCOPE_EXTERNAL, 0),
          TCP_REV_NAT, Lb4Service.F_NO_BACKENDS, 0);
      assertThat(echo(s, "while terminating")).isEqualTo("while terminating");
      assertThatThrownBy(() -> client.connect(VIP, 80)).as("new connections")
          .hasRootCauseInstanceOf(ConnectException.class);
      assertThat(echo(s, "still")).isEqualTo("still");
    }
  }

  @Test
  void svc_6_sessionAffinityKeepsAClientOnOneBackendAcrossConnections(NetnsLab lab) {
    Node node = new Node(lab);
    Pod client = node.pod("client", "198.18.0.2");
    node.backend("pod-a", "198.18.0.3");
    node.backend("pod-b", "198.18.0.4");
    node.maps.backend(1, "198.18.0.3", 8080, Protocol.TCP);
    node.maps.backend(2, "198.18.0.4", 8080, Protocol.TCP);
    node.maps.frontend(new Lb4Key(Ipv4.parse(VIP), 80, Protocol.TCP, Lb4Key.SCOPE_EXTERNAL, 0),
        TCP_REV_NAT, Lb4Service.F_AFFINITY, 10800, 1, 2);

    String first = client.greeting(VIP, 80);
    for (int i = 0; i < 15; i++) {
      assertThat(client.greeting(VIP, 80)).as("connection %d", i).isEqualTo(first);
    }
  }

  @Test
  void svc_7_repliesOfABackendOnAnotherNodeComeFromTheVip(NetnsLab lab) throws Exception {
    Node node = new Node(lab);
    Pod client = node.pod("client", "198.18.0.2");
    PodNetwork.serve(node.podOnAnotherNode("198.18.1.5"), "remote");
    node.maps.backend(1, "198.18.1.5", 8080, Protocol.TCP);
    node.maps.frontend(VIP, 80, Protocol.TCP, TCP_REV_NAT, 1);
    node.maps.backend(2, "198.18.1.5", 5353, Protocol.UDP);
    node.maps.frontend(VIP, 53, Protocol.UDP, UDP_REV_NAT, 2);

    assertRepliesComeFromTheVip(client, "remote 198.18.0.2");
  }

  @Test
  void svc_8_repliesOfTheNodesOwnHostNetworkBackendComeFromTheVip(NetnsLab lab)
      throws Exception {
    Node node = new Node(lab);
    Pod client = node.pod("client", "198.18.0.2");
    // A hostNetwork pod of this node: its address is the node's own.
    node.ns.ip("addr", "add", "198.18.2.1/32", "dev", "up0");
    PodNetwork.serve(node.ns, "host");
    node.maps.backend(1, "198.18.2.1", 8080, Protocol.TCP);
    node.maps.frontend(VIP, 80, Protocol.TCP, TCP_REV_NAT, 1);
    node.maps.backend(2, "198.18.2.1", 5353, Protocol.UDP);
    node.maps.frontend(VIP, 53, Protocol.UDP, UDP_REV_NAT, 2);

    assertRepliesComeFromTheVip(client, "host 198.18.0.2");
  }

  @Test
  void svc_10_udpToABackendPortNobodyListensOnIsRefusedAtOnceOnThisNodeAndOnAnother(
      NetnsLab lab) throws Exception {
    // The backend's kernel answers ICMP port unreachable quoting the datagram it got (to the
    // backend): only translated back to the VIP does it reach the client's connected socket.
    Node node = new Node(lab);
    Pod client = node.pod("client", "198.18.0.2");
    node.backend("pod-a", "198.18.0.3");
    node.podOnAnotherNode("198.18.1.5");
    node.maps.backend(1, "198.18.0.3", 5354, Protocol.UDP); // nobody listens on 5354
    node.maps.frontend(VIP, 53, Protocol.UDP, UDP_REV_NAT, 1);
    node.maps.backend(2, "198.18.1.5", 5354, Protocol.UDP);
    node.maps.frontend(VIP, 54, Protocol.UDP, 3, 2);

    for (int port : new int[] {53, 54}) {
      try (DatagramSocket s = client.udp(VIP, port)) {
        long start = System.nanoTime();
        assertThatThrownBy(() -> exchange(s, "anyone?")).as("VIP port %d", port)
            .isInstanceOf(PortUnreachableException.class);
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(FAST);
      }
    }
  }

  @Test
  void svc_11_udpDatagramsLargerThanTheMtuReachTheBackendAndComeBackWholeOnThisNodeAndAnother(
      NetnsLab lab) throws Exception {
    // 4,000 bytes over 1,500-byte links: three fragments each way, of which only the first
    // carries the ports that service translation and its reversal key on.
    Node node = new Node(lab);
    Pod client = node.pod("client", "198.18.0.2");
    Pod local = node.pod("pod-a", "198.18.0.3");
    NetnsLab.Netns otherNode = node.podOnAnotherNode("198.18.1.5");
    for (NetnsLab.Netns backend : new NetnsLab.Netns[] {local.ns(), otherNode}) {
      PodNetwork.serveUdpEcho(backend, 7007);
    }
    node.maps.backend(1, "198.18.0.3", 7007, Protocol.UDP);
    node.maps.frontend(VIP, 7, Protocol.UDP, UDP_REV_NAT, 1);
    node.maps.backend(2, "198.18.1.5", 7007, Protocol.UDP);
    node.maps.frontend(VIP, 8, Protocol.UDP, 3, 2);

    for (int port : new int[] {7, 8}) {
      try (DatagramSocket s = client.udp(VIP, port)) {
        for (int round = 0; round < 3; round++) {
          assertThat(PodNetwork.echoesWhole(s, 4000)).as("VIP port %d, datagram %d", port, round)
              .isTrue();
        }
      }
    }
  }

  /**
   * TCP and UDP through the VIP get their answers, which only sockets connected to the VIP accept
   * from the VIP itself; expected is what the backend says (its name and the client it saw).
   */
  private static void assertRepliesComeFromTheVip(Pod client, String expected) throws Exception {
    for (int i = 0; i < 3; i++) {
      assertThat(client.greeting(VIP, 80)).as("TCP connection %d", i).isEqualTo(expected);
    }
    try (Socket s = client.connect(VIP, 80)) {
      assertThat(readLine(s)).isEqualTo(expected);
      assertThat(echo(s, "established")).isEqualTo("established");
    }
    try (DatagramSocket s = client.udp(VIP, 53)) {
      assertThat(exchange(s, "1")).isEqualTo(expected);
      assertThat(exchange(s, "2")).as("the same flow again").isEqualTo(expected);
    }
  }
}
