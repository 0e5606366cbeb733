package org.anetd.agent.datapath;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.anetd.agent.bpf.BpfObject;
import org.anetd.agent.bpf.CgroupAttachment;
import org.anetd.agent.bpf.NetworkNamespace;
import org.anetd.agent.testing.CgroupClient;
import org.anetd.agent.testing.CgroupPrograms;
import org.anetd.agent.testing.EbpfObjects;
import org.anetd.agent.testing.KernelTest;
import org.anetd.agent.testing.NetnsLab;
import org.anetd.agent.testing.PodNetwork;
import org.anetd.agent.testing.Shell;
import org.junit.jupiter.api.Test;

/**
 * bpf-lb-sock on real sockets: bpf_sock's programs linked to a cgroup the test creates, clients
 * started inside it (and, for contrast, outside it), bpf_lxc on every pod veth as the fallback.
 *
 * <pre>
 *  netns client 198.18.0.2   netns pod-a 198.18.0.3   netns pod-b 198.18.0.4   (PodNetwork)
 *  cgroup "sock": socket programs linked; clients (CgroupClient) join it before they exec
 *  Service 198.19.0.10:80/TCP -> :8080 (pod-a, pod-b), 198.19.0.10:53/UDP -> :5353
 * </pre>
 */
@KernelTest
class SocketLoadBalancerKernelTest {
  private static final String VIP = "198.19.0.10";
  /** The ClusterIP as an AF_INET6 socket names it. */
  private static final String MAPPED_VIP = "::ffff:" + VIP;
  private static final int TCP_REV_NAT = 1;
  private static final int UDP_REV_NAT = 2;

  private static final class Node {
    final NetnsLab lab;
    final PodNetwork net;
    final BpfObject lxc;
    final BpfObject sock;
    final ServiceMaps maps;
    final Path pins;
    final Path cgroup;

    Node(NetnsLab lab) {
      this.lab = lab;
      pins = lab.bpffsDir("sock");
      lxc = BpfObject.openFile(EbpfObjects.path("bpf_lxc.o"));
      lab.onClose(lxc::close);
      lxc.pinMapsUnder(pins).load();
      sock = loadSock();
      maps = new ServiceMaps(lxc);
      net = new PodNetwork(lab, new LxcWriter(MapBackend.of(lxc.map(Datapath.LXC))));
      net.pod("client", "198.18.0.2", from(), to());
      net.backend("pod-a", "198.18.0.3", from(), to());
      net.backend("pod-b", "198.18.0.4", from(), to());
      maps.backend(1, "198.18.0.3", 8080, Protocol.TCP);
      maps.backend(2, "198.18.0.4", 8080, Protocol.TCP);
      maps.frontend(VIP, 80, Protocol.TCP, TCP_REV_NAT, 1, 2);
      maps.backend(3, "198.18.0.3", 5353, Protocol.UDP);
      maps.frontend(VIP, 53, Protocol.UDP, UDP_REV_NAT, 3);
      cgroup = lab.cgroup("sock");
      lab.onClose(() -> socketLb(sock).disable()); // before the cgroup goes
    }

    /** A second load of bpf_sock.o on the same maps, as a restarted agent's. */
    BpfObject loadSock() {
      BpfObject o = BpfObject.openFile(EbpfObjects.path("bpf_sock.o"));
      lab.onClose(o::close);
      o.pinMapsUnder(pins).load();
      return o;
    }

    SocketLoadBalancer socketLb(BpfObject o) {
      return new SocketLoadBalancer(pins.resolve("links"), o);
    }

    /**
     * Socket load balancing on the test's cgroup, with the node netns as the host's (as the agent
     * enables it): pods' sockets and the node's own are told apart.
     */
    void enable() {
      enable(sock);
    }

    /** {@link #enable()} with the programs of {@code o} (a restarted agent's). */
    void enable(BpfObject o) {
      socketLb(o).enable(cgroup, net.node().call(NetworkNamespace::cookie));
    }

    /** The node's own address for its sockets (its default route leads to "world"). */
    NetnsLab.Netns host() {
      net.node().ip("addr", "add", "198.18.0.1/32", "dev", "lo");
      return net.node();
    }

    org.anetd.agent.bpf.BpfProgram from() {
      return lxc.program("from_container");
    }

    org.anetd.agent.bpf.BpfProgram to() {
      return lxc.program("to_container");
    }

    String tcp(Path cg, NetnsLab.Netns ns) {
      return tcp(cg, ns, VIP);
    }

    String tcp(Path cg, NetnsLab.Netns ns, String vip) {
      Shell.Result r = CgroupClient.tcp(cg, ns, vip, 80);
      assertThat(r.exitCode()).as("TCP client: %s", r.output()).isZero();
      return r.output().strip();
    }

    NetnsLab.Netns client() {
      return net.pods().get("client").ns();
    }

    long serviceConntrackEntries() {
      return lxc.map(Datapath.CT4_TCP).keys().stream()
          .map(Ct4KeyCodec.INSTANCE::decode)
          .filter(k -> (k.flags() & Ct4Key.F_SERVICE) != 0).count();
    }

    /** Entries in anetd_lb4_sock_rev: one per open socket balanced at connect(). */
    int sockRevEntries() {
      return sock.map(Datapath.LB4_SOCK_REV).keys().size();
    }

    /** connect() calls the socket program translated, as it counts them in anetd_metrics. */
    long socketTranslations() {
      return maps.packets(MetricsKey.REASON_SOCK_LB_TRANSLATED, MetricsKey.DIR_EGRESS);
    }
  }

  @Test
  void tcpConnectToAClusterIpIsTranslatedAtTheSocketAndReachesBothBackends(NetnsLab lab) {
    Node node = new Node(lab);
    node.enable();

    Set<String> backends = new HashSet<>();
    for (int i = 0; i < 20; i++) {
      String out = node.tcp(node.cgroup, node.client());
      assertThat(out).as("peer as the app sees it | backend and the client address it saw")
          .matches(VIP.replace(".", "\\.") + ":80\\|pod-[ab] 198\\.18\\.0\\.2");
      backends.add(out.split("\\|")[1].split(" ")[0]);
    }

    assertThat(backends).containsExactlyInAnyOrder("pod-a", "pod-b");
    assertThat(node.serviceConntrackEntries()).as("no per-packet service translation").isZero();
    assertThat(node.socketTranslations()).isEqualTo(20);
    assertThat(node.sockRevEntries()).as("closed sockets left no entry").isZero();
  }

  @Test
  void processesOutsideTheCgroupAreStillTranslatedPerPacket(NetnsLab lab) {
    Node node = new Node(lab);
    node.enable();

    String out = node.tcp(null, node.client());

    assertThat(out).matches(VIP.replace(".", "\\.") + ":80\\|pod-[ab] 198\\.18\\.0\\.2");
    assertThat(node.serviceConntrackEntries()).isPositive();
    assertThat(node.socketTranslations()).isZero();
  }

  @Test
  void aConnectionOnTheTupleOfAnEarlierPerPacketOneGetsItsOwnReplies(NetnsLab lab) {
    Node node = new Node(lab);
    node.maps.frontend(VIP, 80, Protocol.TCP, TCP_REV_NAT, 1); // pod-a only
    node.enable();
    Shell.Result perPacket = CgroupClient.tcp(null, node.client(), VIP, 80, 40000);
    assertThat(perPacket.output()).as("per packet").contains("pod-a");

    // Same client address and port, now to pod-a:8080 itself: the reply entry the service
    // connection left (pod-a:8080 -> client:40000, rewrite to the VIP) must not apply.
    Shell.Result direct = CgroupClient.tcp(node.cgroup, node.client(), VIP, 80, 40000);

    assertThat(direct.exitCode()).as(direct.output()).isZero();
    assertThat(direct.output().strip()).isEqualTo(VIP + ":80|pod-a 198.18.0.2");
  }

  @Test
  void serviceWithoutBackendsIsStillRefusedAtOnce(NetnsLab lab) {
    Node node = new Node(lab);
    node.maps.frontend(new Lb4Key(Ipv4.parse(VIP), 80, Protocol.TCP, Lb4Key.SCOPE_EXTERNAL, 0),
        TCP_REV_NAT, Lb4Service.F_NO_BACKENDS, 0);
    node.enable();

    long start = System.nanoTime();
    Shell.Result r = CgroupClient.tcp(node.cgroup, node.client(), VIP, 80);

    assertThat(r.exitCode()).isNotZero();
    assertThat(r.output()).contains("ConnectionRefusedError");
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(2));
    assertThat(node.socketTranslations()).isZero();
  }

  @Test
  void sessionAffinityServicesAreLeftToThePerPacketPath(NetnsLab lab) {
    Node node = new Node(lab);
    node.maps.frontend(new Lb4Key(Ipv4.parse(VIP), 80, Protocol.TCP, Lb4Key.SCOPE_EXTERNAL, 0),
        TCP_REV_NAT, Lb4Service.F_AFFINITY, 60, 1, 2);
    node.enable();

    Set<String> backends = new HashSet<>();
    for (int i = 0; i < 8; i++) {
      backends.add(node.tcp(node.cgroup, node.client()).split("\\|")[1].split(" ")[0]);
    }

    assertThat(backends).as("one client sticks to one backend").hasSize(1);
    assertThat(node.socketTranslations()).isZero();
    assertThat(node.maps.affinity("198.18.0.2", TCP_REV_NAT)).isPresent();
  }

  @Test
  void udpIsLeftToThePerPacketPath(NetnsLab lab) {
    Node node = new Node(lab);
    node.enable();

    Shell.Result r = CgroupClient.udp(node.cgroup, node.client(), VIP, 53);

    assertThat(r.exitCode()).as(r.output()).isZero();
    assertThat(r.output().strip()).isEqualTo(VIP + ":53|pod-a 198.18.0.2");
    assertThat(node.socketTranslations()).isZero();
  }

  @Test
  void aProcessInTheNodeNamespaceReachesTheClusterIp(NetnsLab lab) {
    Node node = new Node(lab);
    node.enable();

    // The node netns has no route to the ClusterIP (its default leads to "world"): only the
    // socket translation gets there, as for kubelet or a hostNetwork pod on a real node.
    String out = node.tcp(node.cgroup, node.host());

    assertThat(out).matches(VIP.replace(".", "\\.") + ":80\\|pod-[ab] 198\\.18\\.0\\.1");
  }

  @Test
  void aProcessInTheNodeNamespaceReachesUdpClusterIpsFromConnectedAndUnconnectedSockets(
      NetnsLab lab) {
    // No route to the ClusterIP and no pod veth: only the socket programs get it there, and the
    // answer must read as coming from the ClusterIP (resolvers drop anything else). AF_INET6
    // sockets (a JVM's) name it v4-mapped: connect6 and recvmsg6, their datagrams sendmsg4.
    Node node = new Node(lab);
    node.enable();
    NetnsLab.Netns host = node.host();

    for (String vip : List.of(VIP, MAPPED_VIP)) {
      for (Shell.Result r : List.of(CgroupClient.udp(node.cgroup, host, vip, 53),
          CgroupClient.udpUnconnected(node.cgroup, host, vip, 53))) {
        assertThat(r.exitCode()).as(r.output()).isZero();
        assertThat(r.output().strip()).isEqualTo(vip + ":53|pod-a 198.18.0.1");
      }
    }
    assertThat(node.socketTranslations()).as("one connect(), one sendmsg() per family")
        .isEqualTo(4);
  }

  @Test
  void everyDatagramOfAnUnconnectedHostSocketGoesToTheSameBackend(NetnsLab lab) {
    // as conntrack keeps one flow on one backend: a protocol of several datagrams (QUIC, TFTP,
    // DNS over several packets) needs the same server each time
    Node node = new Node(lab);
    node.maps.backend(4, "198.18.0.4", 5353, Protocol.UDP);
    node.maps.frontend(VIP, 53, Protocol.UDP, UDP_REV_NAT, 3, 4);
    node.enable();
    NetnsLab.Netns host = node.host();

    Set<String> backends = new HashSet<>();
    for (int socket = 0; socket < 6; socket++) {
      Shell.Result r = CgroupClient.udpUnconnected(node.cgroup, host, VIP, 53, 6);
      assertThat(r.exitCode()).as(r.output()).isZero();
      List<String> answers = r.output().strip().lines().toList();
      assertThat(answers).as("socket %d", socket).hasSize(6)
          .allMatch(a -> a.equals(answers.get(0)));
      backends.add(answers.get(0));
    }

    assertThat(backends).as("sockets still spread over the backends")
        .containsExactlyInAnyOrder(VIP + ":53|pod-a 198.18.0.1", VIP + ":53|pod-b 198.18.0.1");
  }

  @Test
  void aProcessInTheNodeNamespaceSticksToOneBackendOfAnAffinityService(NetnsLab lab) {
    Node node = new Node(lab);
    node.maps.frontend(new Lb4Key(Ipv4.parse(VIP), 80, Protocol.TCP, Lb4Key.SCOPE_EXTERNAL, 0),
        TCP_REV_NAT, Lb4Service.F_AFFINITY, 60, 1, 2);
    node.enable();
    NetnsLab.Netns host = node.host();

    Set<String> backends = new HashSet<>();
    for (int i = 0; i < 8; i++) {
      backends.add(node.tcp(node.cgroup, host).split("\\|")[1].split(" ")[0]);
    }

    assertThat(backends).as("the node sticks to one backend").hasSize(1);
    assertThat(node.socketTranslations()).isEqualTo(8);
    assertThat(node.maps.affinity("0.0.0.0", TCP_REV_NAT)).as("keyed by the node: 0.0.0.0")
        .isPresent();
  }

  @Test
  void aProcessInTheNodeNamespaceReachesANodePortOfTheNodesAddress(NetnsLab lab) {
    // Nothing listens on the node's port 30080: only the socket translation gets there. A pod's
    // connect() to the NodePort stays with bpf_lxc (which forwards the replies of NodePorts).
    Node node = new Node(lab);
    node.maps.frontend(new Lb4Key(Ipv4.parse("198.18.0.1"), 30080, Protocol.TCP,
        Lb4Key.SCOPE_EXTERNAL, 0), 3, Lb4Service.F_NODEPORT, 0, 1, 2);
    node.enable();
    NetnsLab.Netns host = node.host();

    Shell.Result r = CgroupClient.tcp(node.cgroup, host, "198.18.0.1", 30080);
    Shell.Result pod = CgroupClient.tcp(node.cgroup, node.client(), "198.18.0.1", 30080);

    assertThat(r.exitCode()).as(r.output()).isZero();
    assertThat(r.output().strip()).matches("198\\.18\\.0\\.1:30080\\|pod-[ab] 198\\.18\\.0\\.1");
    assertThat(pod.exitCode()).as(pod.output()).isZero();
    assertThat(node.socketTranslations()).as("the host's connect() only").isEqualTo(1);
  }

  @Test
  void aProcessInTheNodeNamespaceIsRefusedAtOnceByAServiceWithoutBackends(NetnsLab lab) {
    Node node = new Node(lab);
    node.maps.frontend(new Lb4Key(Ipv4.parse(VIP), 80, Protocol.TCP, Lb4Key.SCOPE_EXTERNAL, 0),
        TCP_REV_NAT, Lb4Service.F_NO_BACKENDS, 0);
    node.maps.frontend(new Lb4Key(Ipv4.parse(VIP), 53, Protocol.UDP, Lb4Key.SCOPE_EXTERNAL, 0),
        UDP_REV_NAT, Lb4Service.F_NO_BACKENDS, 0);
    node.enable();
    NetnsLab.Netns host = node.host();

    long start = System.nanoTime();
    Shell.Result tcp = CgroupClient.tcp(node.cgroup, host, VIP, 80);
    Shell.Result udp = CgroupClient.udp(node.cgroup, host, VIP, 53);
    Duration ipv4 = Duration.ofNanos(System.nanoTime() - start);
    start = System.nanoTime();
    Shell.Result tcp6 = CgroupClient.tcp(node.cgroup, host, MAPPED_VIP, 80); // connect6
    Duration ipv6 = Duration.ofNanos(System.nanoTime() - start);

    for (Shell.Result r : List.of(tcp, udp, tcp6)) {
      assertThat(r.exitCode()).isNotZero();
      assertThat(r.output()).contains("ConnectionRefusedError");
    }
    assertThat(ipv4).isLessThan(Duration.ofSeconds(2));
    assertThat(ipv6).isLessThan(Duration.ofSeconds(2));
  }

  @Test
  void aNodeProcessOnAnIpv6SocketReachesTheClusterIpByItsV4MappedAddress(NetnsLab lab) {
    // A JVM's sockets are AF_INET6 and name IPv4 peers ::ffff:a.b.c.d: connect6, not connect4.
    Node node = new Node(lab);
    node.enable();

    String out = node.tcp(node.cgroup, node.host(), MAPPED_VIP);

    assertThat(out)
        .matches("::ffff:" + VIP.replace(".", "\\.") + ":80\\|pod-[ab] 198\\.18\\.0\\.1");
    assertThat(node.socketTranslations()).isEqualTo(1);
    assertThat(node.sockRevEntries()).as("sock_release deleted the AF_INET6 socket's entry")
        .isZero();
  }

  @Test
  void aPodsIpv6SocketIsTranslatedAtTheSocketLikeAnIpv4One(NetnsLab lab) {
    Node node = new Node(lab);
    node.enable();

    String out = node.tcp(node.cgroup, node.client(), MAPPED_VIP);

    assertThat(out)
        .matches("::ffff:" + VIP.replace(".", "\\.") + ":80\\|pod-[ab] 198\\.18\\.0\\.2");
    assertThat(node.socketTranslations()).isEqualTo(1);
    assertThat(node.serviceConntrackEntries()).as("no per-packet translation").isZero();
  }

  @Test
  void aHostUdpSocketConnectedBeforeTheProgramsKeepsItsPeerWhateverItsFamily(NetnsLab lab)
      throws Exception {
    // Its peer was settled at connect(): here kube-proxy's DNAT (nft OUTPUT) serves it. The
    // kernel runs sendmsg4 for every datagram of an AF_INET6 socket, never for AF_INET's.
    Node node = new Node(lab);
    NetnsLab.Netns host = node.host();
    host.run("nft", "add", "table", "ip", "kp");
    host.run("nft", "add chain ip kp out { type nat hook output priority -100 ; }");
    host.run("nft", "add", "rule", "ip", "kp", "out", "ip", "daddr", VIP, "udp", "dport", "53",
        "dnat", "to", "198.18.0.3:5353");
    String script = "import socket,sys\n"
        + "f=socket.AF_INET6 if ':' in sys.argv[1] else socket.AF_INET\n"
        + "s=socket.socket(f,socket.SOCK_DGRAM); s.settimeout(3)\n"
        + "s.connect((sys.argv[1],53)); print('connected', flush=True)\n"
        + "sys.stdin.readline(); s.send(b'hi\\n')\n"
        + "try:\n"
        + "  d,a=s.recvfrom(512); print('%s:%d|%s' % (a[0],a[1],d.decode().strip()))\n"
        + "except Exception as e: print('no answer: %r' % e)\n";
    Map<String, String> answers = new LinkedHashMap<>();
    for (String peer : List.of(VIP, MAPPED_VIP)) {
      node.socketLb(node.sock).disable();
      Process p = new ProcessBuilder("bash", "-c", "echo $$ > "
          + node.cgroup.resolve("cgroup.procs") + " && exec ip netns exec " + host.name()
          + " python3 -c \"$0\" \"$@\"", script, peer).redirectErrorStream(true).start();
      try {
        var out = p.inputReader();
        assertThat(out.readLine()).isEqualTo("connected");
        node.enable(); // linked after the socket connected
        p.outputWriter().write("\n");
        p.outputWriter().flush();
        answers.put(peer, out.readLine());
      } finally {
        p.destroyForcibly();
        p.waitFor();
      }
    }

    assertThat(answers.get(VIP)).as("AF_INET").isEqualTo(VIP + ":53|pod-a 198.18.0.1");
    assertThat(answers.get(MAPPED_VIP)).as("AF_INET6, v4-mapped")
        .isEqualTo(MAPPED_VIP + ":53|pod-a 198.18.0.1");
  }

  @Test
  void aSocketConnectedBeforeARestartStillShowsTheServiceAsItsPeer(NetnsLab lab)
      throws Exception {
    Node node = new Node(lab);
    node.enable();

    try (CgroupClient.HeldConnection held =
        CgroupClient.heldTcp(node.cgroup, node.client(), VIP, 80)) {
      String before = held.peer();
      int entriesWhileOpen = node.sockRevEntries();
      node.enable(node.loadSock()); // a restarted agent's programs
      String after = held.peer();

      assertThat(before).isEqualTo(VIP + ":80");
      assertThat(entriesWhileOpen).isEqualTo(1);
      assertThat(after).as("the new getpeername4 reads the entry the old connect4 wrote: the"
          + " pinned map was adopted").isEqualTo(VIP + ":80");
    }
    assertThat(node.socketTranslations()).isEqualTo(1);
    await().atMost(Duration.ofSeconds(5)).untilAsserted(() ->
        assertThat(node.sockRevEntries()).as("the restarted sock_release deleted it").isZero());
  }

  @Test
  void enablingAgainUpdatesThePinnedLinksAndDisablingRemovesThem(NetnsLab lab)
      throws Exception {
    Node node = new Node(lab);
    node.enable();
    BpfObject restarted = node.loadSock();
    SocketLoadBalancer again = node.socketLb(restarted);

    node.enable(restarted);
    String attached = CgroupPrograms.show(node.cgroup);
    CgroupAttachment.Target linked;
    try (CgroupAttachment pinned = CgroupAttachment.pinned(
        node.pins.resolve("links/sock4_connect")).orElseThrow()) {
      linked = pinned.target();
    }
    node.tcp(node.cgroup, node.client());
    long translated = node.socketTranslations();
    boolean hadLinks;
    int entriesAfterDisable;
    // a link a newer agent pinned (a downgrade): disabling removes it too
    Path newer = node.pins.resolve("links/sock6_newer");
    try (CgroupAttachment a = CgroupAttachment.attach(node.cgroup,
        CgroupAttachment.Hook.UDP4_RECVMSG, restarted.program("sock4_recvmsg"))) {
      a.pin(newer);
    }
    try (CgroupClient.HeldConnection open =
        CgroupClient.heldTcp(node.cgroup, node.client(), VIP, 80)) {
      hadLinks = again.disable();
      entriesAfterDisable = node.sockRevEntries();
    }
    node.tcp(node.cgroup, node.client());

    assertThat(CgroupPrograms.socketPrograms(attached))
        .as("one connect4, sendmsg4, recvmsg4, getpeername4, connect6, recvmsg6, getpeername6"
            + " and sock_release link, not two of each: %s", attached)
        .isEqualTo(8);
    assertThat(linked).as("the kernel's view of the pinned link: what enable() compares with")
        .isEqualTo(CgroupAttachment.Target.of(node.cgroup, CgroupAttachment.Hook.INET4_CONNECT));
    assertThat(translated).as("by the restarted object's program").isEqualTo(1);
    assertThat(hadLinks).isTrue();
    assertThat(again.enabled()).isFalse();
    assertThat(CgroupPrograms.socketPrograms(node.cgroup)).isZero();
    assertThat(entriesAfterDisable).as("with sock_release gone nothing would delete them")
        .isZero();
    assertThat(Files.exists(node.pins.resolve("links/sock4_connect"))).isFalse();
    assertThat(Files.exists(newer)).as("a pin it did not know").isFalse();
    assertThat(node.serviceConntrackEntries()).as("after disable: per packet").isPositive();
  }

}
