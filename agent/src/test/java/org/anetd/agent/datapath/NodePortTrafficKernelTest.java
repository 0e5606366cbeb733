package org.anetd.agent.datapath;

import static org.anetd.agent.testing.PodNetwork.echo;
import static org.anetd.agent.testing.PodNetwork.exchange;
import static org.anetd.agent.testing.PodNetwork.readLine;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.net.ConnectException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.PortUnreachableException;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.List;
import org.anetd.agent.bpf.BpfMap;
import org.anetd.agent.bpf.BpfObject;
import org.anetd.agent.bpf.TcAttachment;
import org.anetd.agent.testing.EbpfObjects;
import org.anetd.agent.testing.KernelTest;
import org.anetd.agent.testing.NetnsLab;
import org.anetd.agent.testing.PodNetwork;
import org.anetd.agent.testing.PodNetwork.Pod;
import org.junit.jupiter.api.Test;

/**
 * Real traffic from outside the node to NodePorts, a LoadBalancer IP and an externalIP, through
 * bpf_host's from_netdev on the uplink and bpf_lxc on the pod veths: no kube-proxy, no iptables.
 *
 * <pre>
 *  netns pod-a 198.18.0.3/32 (TCP 8080 "name peer; echo", UDP 5353 "name peer")
 *        ||
 *      hv-a  (tc ingress: from_container, tc egress: to_container)
 *  netns node: ip_forward=1
 *      up0 198.18.255.1/24 (default route; tc ingress: from_netdev, attached by HostDevices)
 *        ||
 *      eth0 198.18.255.2/24  netns world: the external client;
 *                            route 198.19.1.0/24 (LB IP, externalIP) via 198.18.255.1
 *      eth1 198.18.254.1/24 ==veth== eth0 198.18.254.2/24 netns node-b (a backend on another
 *                            node; the node routes 198.18.254.0/24 via 198.18.255.2)
 * </pre>
 */
@KernelTest
class NodePortTrafficKernelTest {
  private static final String NODE = "198.18.255.1";
  private static final String CLIENT = "198.18.255.2";
  private static final String POD_A = "198.18.0.3";
  private static final String LB_IP = "198.19.1.1";
  private static final String EXTERNAL_IP = "198.19.1.2";
  private static final Duration FAST = Duration.ofSeconds(1);

  /** The pod network with bpf_host on its uplink, an external client and backend pod-a. */
  private static final class Node {
    final PodNetwork net;
    final NetnsLab.Netns ns;
    final BpfObject host;
    final ServiceMaps maps;
    final HostDevices devices;
    final Pod client;

    Node(NetnsLab lab) {
      var pins = lab.bpffsDir("np");
      BpfObject lxc = BpfObject.openFile(EbpfObjects.path("bpf_lxc.o"));
      lab.onClose(lxc::close);
      lxc.pinMapsUnder(pins).load();
      host = BpfObject.openFile(EbpfObjects.path("bpf_host.o"));
      lab.onClose(host::close);
      host.pinMapsUnder(pins).load();
      maps = new ServiceMaps(lxc);

      net = new PodNetwork(lab, new LxcWriter(MapBackend.of(lxc.map(Datapath.LXC))));
      ns = net.node();
      NetnsLab.Netns world = net.world();
      ns.ip("addr", "add", NODE + "/24", "dev", "up0");
      world.ip("addr", "add", CLIENT + "/24", "dev", "eth0");
      world.ip("route", "add", "198.19.1.0/24", "via", NODE);
      client = new Pod("client", CLIENT, world);

      net.backend("pod-a", POD_A, lxc.program("from_container"), lxc.program("to_container"));
      BpfMap ipcache = lxc.map("anetd_ipcache4");
      ipcache.update(Ipcache4KeyCodec.INSTANCE.encode(Ipcache4Key.host(Ipv4.parse(POD_A))),
          Ipcache4ValueCodec.INSTANCE.encode(new Ipcache4Value(300, Ipv4.parse(NODE), 5)));
      maps.backend(1, POD_A, 8080, Protocol.TCP);
      maps.backend(2, POD_A, 5353, Protocol.UDP);

      devices = new HostDevices(ns.path());
      lab.onClose(devices::close);
      assertThat(devices.detect()).as("interfaces with a global IPv4 and a default route")
          .containsExactly("up0");
      assertThat(devices.attach(List.of(), programs()))
          .containsExactly("up0");
    }

    void nodePort(int port, Protocol protocol, int revNat, int flags, long... backends) {
      maps.frontend(new Lb4Key(Ipv4.parse(NODE), port, protocol, Lb4Key.SCOPE_EXTERNAL, 0),
          revNat, Lb4Service.F_NODEPORT | flags, 0, backends);
    }

    HostDevices.NodePrograms programs() {
      return new HostDevices.NodePrograms(host.program("from_netdev"), host.program("to_netdev"));
    }

    int attachedProgramId(TcAttachment.Direction direction) {
      return ns.call(() -> TcAttachment.attachedProgramId(
          org.anetd.agent.bpf.NetworkNamespace.ifindex("up0"), direction));
    }
  }

  @Test
  void np_1_tcpAndUdpNodePortsReachTheBackendWithTheClientsAddressAndReplyFromTheNodePort(
      NetnsLab lab) throws Exception {
    Node node = new Node(lab);
    node.nodePort(30080, Protocol.TCP, 1, 0, 1);
    node.nodePort(30053, Protocol.UDP, 2, 0, 2);

    for (int i = 0; i < 5; i++) {
      // connected to the node IP:nodePort: a SYN-ACK from anywhere else would not match
      try (Socket s = node.client.connect(NODE, 30080)) {
        assertThat(readLine(s)).as("backend and the client address it saw")
            .isEqualTo("pod-a " + CLIENT);
        assertThat(echo(s, "hello " + i)).isEqualTo("hello " + i);
      }
    }
    try (DatagramSocket s = node.client.udp(NODE, 30053)) {
      assertThat(exchange(s, "ping")).isEqualTo("pod-a " + CLIENT);
      assertThat(s.getInetAddress()).isEqualTo(InetAddress.getByName(NODE));
    }

    // attaching again is a no-op replace; closing removes only what HostDevices attached
    int in = node.attachedProgramId(TcAttachment.Direction.INGRESS);
    int out = node.attachedProgramId(TcAttachment.Direction.EGRESS);
    node.devices.attach(List.of("up0"), node.programs());
    assertThat(node.attachedProgramId(TcAttachment.Direction.INGRESS)).isEqualTo(in).isPositive();
    assertThat(node.attachedProgramId(TcAttachment.Direction.EGRESS)).isEqualTo(out).isPositive()
        .isNotEqualTo(in);
    node.devices.close();
    assertThat(node.attachedProgramId(TcAttachment.Direction.INGRESS)).isZero();
    assertThat(node.attachedProgramId(TcAttachment.Direction.EGRESS)).isZero();
  }

  @Test
  void np_2_nodePortWithoutBackendsIsRefusedAtOnce(NetnsLab lab) {
    Node node = new Node(lab);
    node.nodePort(30081, Protocol.TCP, 3, Lb4Service.F_NO_BACKENDS);
    node.nodePort(30081, Protocol.UDP, 4, Lb4Service.F_NO_BACKENDS);

    long start = System.nanoTime();
    assertThatThrownBy(() -> node.client.connect(NODE, 30081))
        .hasRootCauseInstanceOf(ConnectException.class)
        .hasRootCauseMessage("Connection refused");
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(FAST);

    try (DatagramSocket s = node.client.udp(NODE, 30081)) {
      long udpStart = System.nanoTime();
      assertThatThrownBy(() -> exchange(s, "anyone?"))
          .isInstanceOf(PortUnreachableException.class);
      assertThat(Duration.ofNanos(System.nanoTime() - udpStart)).isLessThan(FAST);
    }
  }

  @Test
  void np_3_loadBalancerIpAndExternalIpRoutedToTheNodeWorkLikeANodePort(NetnsLab lab)
      throws Exception {
    Node node = new Node(lab);
    node.maps.frontend(new Lb4Key(Ipv4.parse(LB_IP), 80, Protocol.TCP, Lb4Key.SCOPE_EXTERNAL, 0),
        5, Lb4Service.F_EXTERNAL, 0, 1);
    node.maps.frontend(new Lb4Key(Ipv4.parse(EXTERNAL_IP), 53, Protocol.UDP,
        Lb4Key.SCOPE_EXTERNAL, 0), 6, Lb4Service.F_EXTERNAL, 0, 2);

    assertThat(node.client.greeting(LB_IP, 80)).isEqualTo("pod-a " + CLIENT);
    try (DatagramSocket s = node.client.udp(EXTERNAL_IP, 53)) {
      assertThat(exchange(s, "ping")).isEqualTo("pod-a " + CLIENT);
    }
  }

  @Test
  void np_4_backendOnAnotherNodeIsReachedThroughSnatAndAnswersThroughThisNode(NetnsLab lab)
      throws Exception {
    Node node = new Node(lab);
    remoteBackend(lab, node);
    node.nodePort(30082, Protocol.TCP, 7, 0, 3);

    HostSettings range = HostSettings.defaults();
    for (int i = 0; i < 3; i++) {
      try (Socket s = node.client.connect(NODE, 30082)) {
        assertThat(readLine(s)).as("the remote backend sees the node address")
            .isEqualTo("node-b " + NODE);
        assertThat(echo(s, "through node " + i)).isEqualTo("through node " + i);
        assertThat(snatPortOf(node, s.getLocalPort())).as("SNAT port of client port %d",
            s.getLocalPort()).isBetween(range.snatPortMin(), range.snatPortMax());
      }
    }
  }

  @Test
  void np_5_bulkTransfersThroughTheNodePortToALocalBackendKeepTheirSegmentOffload(NetnsLab lab)
      throws Exception {
    // The pod's TSO segments (up to 64 KB, the veths keep their offloads) leave through
    // from_container's fib4_redirect: the FIB lookup must not hold them to the route MTU
    Node node = new Node(lab);
    node.nodePort(30083, Protocol.TCP, 8, 0, 1);

    try (Socket s = node.client.connect(NODE, 30083)) {
      assertThat(readLine(s)).isEqualTo("pod-a " + CLIENT);
      bulkEcho(s, BULK_BYTES, BULK_BOUND);
    }
  }

  @Test
  void np_6_bulkTransfersThroughSnatToARemoteBackendKeepTheirSegmentOffload(NetnsLab lab)
      throws Exception {
    // Both directions are forwarded by from_netdev on up0, and both arrive there as GSO packets
    // (the client's TSO segments; node-b's, forwarded by world)
    Node node = new Node(lab);
    remoteBackend(lab, node);
    node.nodePort(30084, Protocol.TCP, 9, 0, 3);

    try (Socket s = node.client.connect(NODE, 30084)) {
      assertThat(readLine(s)).isEqualTo("node-b " + NODE);
      bulkEcho(s, BULK_BYTES, BULK_BOUND);
    }
  }

  @Test
  void np_7_hostNetworkBackendOfThisNodeAnswersFromTheNodePortAndTheLoadBalancerIp(NetnsLab lab)
      throws Exception {
    // A hostNetwork pod of this node: its address is the node's own (identity host in the
    // ipcache, as the agent writes it). Its replies leave through up0's tc egress (to_netdev).
    Node node = new Node(lab);
    PodNetwork.serve(node.ns, "host");
    node.host.map("anetd_ipcache4").update(
        Ipcache4KeyCodec.INSTANCE.encode(Ipcache4Key.host(Ipv4.parse(NODE))),
        Ipcache4ValueCodec.INSTANCE.encode(
            new Ipcache4Value(Ipcache4Value.IDENTITY_HOST, Ipv4.parse(NODE), 0)));
    node.maps.backend(4, NODE, 8080, Protocol.TCP);
    node.maps.backend(5, NODE, 5353, Protocol.UDP);
    node.nodePort(30085, Protocol.TCP, 10, 0, 4);
    node.nodePort(30085, Protocol.UDP, 11, 0, 5);
    node.maps.frontend(new Lb4Key(Ipv4.parse(LB_IP), 80, Protocol.TCP, Lb4Key.SCOPE_EXTERNAL, 0),
        12, Lb4Service.F_EXTERNAL, 0, 4);

    for (int i = 0; i < 3; i++) {
      try (Socket s = node.client.connect(NODE, 30085)) {
        assertThat(readLine(s)).as("the backend sees the client's own address")
            .isEqualTo("host " + CLIENT);
        assertThat(echo(s, "hello " + i)).isEqualTo("hello " + i);
      }
    }
    try (DatagramSocket s = node.client.udp(NODE, 30085)) {
      assertThat(exchange(s, "ping")).isEqualTo("host " + CLIENT);
      assertThat(s.getInetAddress()).isEqualTo(InetAddress.getByName(NODE));
    }
    assertThat(node.client.greeting(LB_IP, 80)).isEqualTo("host " + CLIENT);
  }

  @Test
  void np_8_localPodTheIpcacheDoesNotMarkLocalYetIsReachedWithoutSnat(NetnsLab lab)
      throws Exception {
    // The pod's programs are attached (anetd_lxc has it) but the agent has not seen the pod with
    // its address yet: its ipcache entry has no endpoint id. A SNAT to the node's address would
    // have the pod answer the node itself, whose stack resets the connection.
    Node node = new Node(lab);
    node.host.map("anetd_ipcache4").update(
        Ipcache4KeyCodec.INSTANCE.encode(Ipcache4Key.host(Ipv4.parse(POD_A))),
        Ipcache4ValueCodec.INSTANCE.encode(new Ipcache4Value(300, Ipv4.parse(NODE), 0)));
    node.nodePort(30086, Protocol.TCP, 13, 0, 1);

    try (Socket s = node.client.connect(NODE, 30086)) {
      assertThat(readLine(s)).as("the pod sees the client's own address")
          .isEqualTo("pod-a " + CLIENT);
      assertThat(echo(s, "hello")).isEqualTo("hello");
    }
  }

  @Test
  void np_9_anAttachThatFailsHalfwayLeavesAFreshInterfaceAsItWas(NetnsLab lab) {
    // to_netdev goes on first; when from_netdev then fails (here: a program of the wrong type),
    // the filter and the clsact hook it made must not stay behind
    Node node = new Node(lab);
    lab.veth(node.ns, "up9", node.net.world(), "eth9");
    BpfObject sock = BpfObject.openFile(EbpfObjects.path("bpf_sock.o"));
    lab.onClose(sock::close);
    sock.pinMapsUnder(lab.bpffsDir("np")).load();
    HostDevices devices = new HostDevices(node.ns.path());
    lab.onClose(devices::close);

    assertThatThrownBy(() -> devices.attach(List.of("up9"), new HostDevices.NodePrograms(
        sock.program("sock4_connect"), node.host.program("to_netdev"))))
        .isInstanceOf(RuntimeException.class);

    assertThat(devices.attached()).isEmpty();
    assertThat(node.ns.run("tc", "qdisc", "show", "dev", "up9")).doesNotContain("clsact");
  }

  private static final int BULK_BYTES = 8 << 20;
  private static final Duration BULK_BOUND = Duration.ofSeconds(15);

  /**
   * Sends {@code bytes} of a pattern to the echoing backend from a second thread while reading
   * them back, and fails unless all of them return intact within {@code bound}.
   */
  private static void bulkEcho(Socket s, int bytes, Duration bound) throws Exception {
    byte[] pattern = new byte[64 << 10];
    for (int i = 0; i < pattern.length; i++) {
      pattern[i] = (byte) (i % 251);
    }
    Thread writer = new Thread(() -> {
      try {
        var out = s.getOutputStream();
        for (int sent = 0; sent < bytes; sent += pattern.length) {
          out.write(pattern, 0, Math.min(pattern.length, bytes - sent));
        }
        out.flush();
      } catch (IOException e) {
        // the reader reports the shortfall; closing the socket ends a blocked write
      }
    }, "bulk-writer");
    writer.setDaemon(true);
    long deadline = System.nanoTime() + bound.toNanos();
    writer.start();
    var in = s.getInputStream();
    byte[] buf = new byte[64 << 10];
    int received = 0;
    try {
      while (received < bytes) {
        if (System.nanoTime() > deadline) {
          throw new AssertionError("only " + received + " of " + bytes + " bytes back within "
              + bound);
        }
        int n;
        try {
          n = in.read(buf);
        } catch (SocketTimeoutException e) {
          throw new AssertionError("stalled after " + received + " of " + bytes + " bytes", e);
        }
        assertThat(n).as("end of stream after %d of %d bytes", received, bytes).isPositive();
        for (int i = 0; i < n; i++) {
          if (buf[i] != (byte) ((received + i) % pattern.length % 251)) {
            throw new AssertionError("byte " + (received + i) + " differs");
          }
        }
        received += n;
      }
    } finally {
      s.close();
      writer.join(5000);
    }
  }

  @Test
  void np_10_udpDatagramsLargerThanTheMtuPassTheNodePortToALocalAndARemoteBackendWhole(
      NetnsLab lab) throws Exception {
    // only the first fragment of each carries the ports from_netdev, SNAT and to_netdev key on
    Node node = new Node(lab);
    PodNetwork.serveUdpEcho(node.net.pods().get("pod-a").ns(), 7007);
    node.maps.backend(4, POD_A, 7007, Protocol.UDP);
    node.nodePort(30007, Protocol.UDP, 8, 0, 4);
    NetnsLab.Netns nodeB = remoteBackend(lab, node);
    PodNetwork.serveUdpEcho(nodeB, 7007);
    node.maps.backend(5, "198.18.254.2", 7007, Protocol.UDP);
    node.nodePort(30008, Protocol.UDP, 9, 0, 5);

    for (int port : new int[] {30007, 30008}) {
      try (DatagramSocket s = node.client.udp(NODE, port)) {
        for (int round = 0; round < 3; round++) {
          assertThat(PodNetwork.echoesWhole(s, 4000)).as("NodePort %d, datagram %d", port, round)
              .isTrue();
        }
      }
    }
  }

  @Test
  void np_11_aClientBehindANarrowerLinkGetsBulkRepliesWhenItsRouterSaysFragmentationNeeded(
      NetnsLab lab) throws Exception {
    // far (MTU 1500, so it offers MSS 1460) is behind world's 1400-byte link: world answers the
    // backend's full-size replies with ICMP fragmentation needed, sent to the NodePort's address.
    // Only translated into an error about the backend's own reply does it reach the backend's
    // socket, which then sends smaller segments; otherwise the transfer stalls for good.
    Node node = new Node(lab);
    node.nodePort(30085, Protocol.TCP, 10, 0, 1);
    NetnsLab.Netns far = behindWorld(lab, node, "far", "eth3", 253);
    node.net.world().ip("link", "set", "eth3", "mtu", "1400");
    Pod client = new Pod("far", "198.18.253.2", far);

    try (Socket s = client.connect(NODE, 30085)) {
      assertThat(readLine(s)).isEqualTo("pod-a 198.18.253.2");
      bulkEcho(s, 1 << 20, Duration.ofSeconds(10));
    }
  }

  /**
   * A netns {@code name} behind world, which routes for it: 198.18.{@code subnet}.2/24 on its
   * eth0, world .1 on {@code worldIf}; the node reaches the subnet through world.
   */
  private static NetnsLab.Netns behindWorld(NetnsLab lab, Node node, String name, String worldIf,
      int subnet) {
    NetnsLab.Netns world = node.net.world();
    NetnsLab.Netns ns = lab.netns(name);
    String prefix = "198.18." + subnet + ".";
    lab.veth(world, worldIf, ns, "eth0");
    world.run("sysctl", "-qw", "net.ipv4.ip_forward=1");
    world.ip("addr", "add", prefix + "1/24", "dev", worldIf);
    ns.ip("addr", "add", prefix + "2/24", "dev", "eth0");
    ns.ip("route", "add", "default", "via", prefix + "1");
    node.ns.ip("route", "add", prefix + "0/24", "via", CLIENT);
    return ns;
  }

  /** node-b behind world, serving TCP 8080 ("node-b peer", then echo) as backend 3. */
  private static NetnsLab.Netns remoteBackend(NetnsLab lab, Node node) {
    NetnsLab.Netns nodeB = behindWorld(lab, node, "node-b", "eth1", 254);
    Process server = nodeB.spawn("socat", "TCP-LISTEN:8080,fork,reuseaddr",
        "SYSTEM:echo node-b $SOCAT_PEERADDR; exec cat");
    await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(20))
        .failFast("the socat server of node-b exited", () -> !server.isAlive())
        .untilAsserted(() -> assertThat(nodeB.exec(5, "ss", "-Hltn", "sport = :8080").output())
            .contains("8080"));
    node.maps.backend(3, "198.18.254.2", 8080, Protocol.TCP);
    return nodeB;
  }

  /** The SNAT port of the connection from the client's port, read from the "in" entry. */
  private static int snatPortOf(Node node, int clientPort) {
    for (BpfMap.Entry e : node.host.map("anetd_snat4").entries()) {
      Ct4Key k = Ct4KeyCodec.INSTANCE.decode(e.key());
      Snat4Entry v = Snat4EntryCodec.INSTANCE.decode(e.value());
      if (k.flags() == Ct4Key.F_REPLY && v.toPort() == clientPort
          && v.toAddress().equals(Ipv4.parse(CLIENT))) {
        assertThat(k.daddr()).isEqualTo(Ipv4.parse(NODE));
        return k.dport();
      }
    }
    throw new AssertionError("no SNAT entry for client port " + clientPort);
  }
}
