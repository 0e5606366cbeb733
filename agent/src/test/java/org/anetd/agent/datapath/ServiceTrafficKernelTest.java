package org.anetd.agent.datapath;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.PortUnreachableException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.anetd.agent.bpf.BpfObject;
import org.anetd.agent.bpf.NetworkNamespace;
import org.anetd.agent.bpf.TcAttachment;
import org.anetd.agent.testing.EbpfObjects;
import org.anetd.agent.testing.KernelTest;
import org.anetd.agent.testing.NetnsLab;
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

  /** A node with its pods, the datapath attached to every pod veth, and its service maps. */
  private static final class Node {
    final NetnsLab lab;
    final NetnsLab.Netns ns;
    final BpfObject lxc;
    final ServiceMaps maps;
    final Map<String, Pod> pods = new LinkedHashMap<>();

    Node(NetnsLab lab) {
      this.lab = lab;
      ns = lab.netns("node");
      ns.run("sysctl", "-qw", "net.ipv4.ip_forward=1", "net.ipv4.conf.all.rp_filter=0",
          "net.ipv4.conf.default.rp_filter=0");
      NetnsLab.Netns world = lab.netns("world");
      lab.veth(ns, "up0", world, "eth0");
      ns.ip("route", "add", "default", "dev", "up0");
      lxc = BpfObject.openFile(EbpfObjects.path("bpf_lxc.o"));
      lab.onClose(lxc::close);
      lxc.pinMapsUnder(lab.bpffsDir("svc")).load();
      maps = new ServiceMaps(lxc);
    }

    Pod pod(String name, String ip) {
      NetnsLab.Netns p = lab.netns(name);
      String hveth = "hv-" + name.replace("pod-", "");
      lab.veth(ns, hveth, p, "eth0");
      p.ip("addr", "add", ip + "/32", "dev", "eth0");
      p.ip("route", "add", "169.254.1.1", "dev", "eth0", "scope", "link");
      p.ip("route", "add", "default", "via", "169.254.1.1");
      ns.run("sysctl", "-qw", "net.ipv4.conf." + hveth + ".proxy_arp=1",
          "net.ipv4.neigh." + hveth + ".proxy_delay=0");
      ns.ip("route", "add", ip + "/32", "dev", hveth);
      ns.call(() -> {
        int ifindex = NetworkNamespace.ifindex(hveth);
        TcAttachment.attach(ifindex, TcAttachment.Direction.INGRESS,
            lxc.program("from_container"));
        TcAttachment.attach(ifindex, TcAttachment.Direction.EGRESS, lxc.program("to_container"));
        return null;
      });
      Pod pod = new Pod(name, ip, p);
      pods.put(name, pod);
      return pod;
    }

    /** A pod serving TCP 8080 ("name peer-address", then echo) and UDP 5353 ("name peer"). */
    Pod backend(String name, String ip) {
      Pod pod = pod(name, ip);
      Process tcp = pod.ns.spawn("socat", "TCP-LISTEN:8080,fork,reuseaddr",
          "SYSTEM:echo " + name + " $SOCAT_PEERADDR; exec cat");
      // The datagram is drained by cat (echo alone could die of SIGPIPE before replying);
      // -T 1 ends each per-datagram child after a second of silence.
      Process udp = pod.ns.spawn("socat", "-T", "1", "UDP-RECVFROM:5353,fork",
          "SYSTEM:echo " + name + " $SOCAT_PEERADDR; exec cat >/dev/null");
      await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(20))
          .failFast("a socat server of " + name + " exited", () -> !tcp.isAlive() || !udp.isAlive())
          .untilAsserted(() -> assertThat(pod.ns.exec(5, "ss", "-Hln",
              "sport = :8080 or sport = :5353").output().lines() // ss may add netlink noise
              .filter(l -> l.startsWith("tcp") || l.startsWith("udp"))).as("listening sockets")
              .hasSize(2));
      return pod;
    }
  }

  private record Pod(String name, String ip, NetnsLab.Netns ns) {
    /**
     * Opens a TCP connection from inside the pod (the socket stays in the pod's netns); a failure
     * is an UncheckedIOException around the socket's own exception.
     */
    Socket connect(String host, int port) {
      return ns.call(() -> {
        Socket s = new Socket();
        try {
          s.setSoTimeout(3000);
          s.connect(new InetSocketAddress(host, port), 3000);
          return s;
        } catch (IOException e) {
          s.close();
          throw new UncheckedIOException(e);
        }
      });
    }

    /** Connects, reads the backend's greeting line ("pod-x peer-address") and closes. */
    String greeting(String host, int port) {
      try (Socket s = connect(host, port)) {
        return readLine(s);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    DatagramSocket udp(String host, int port) {
      return ns.call(() -> {
        try {
          DatagramSocket s = new DatagramSocket(new InetSocketAddress(0));
          s.setSoTimeout(3000);
          s.connect(new InetSocketAddress(host, port));
          return s;
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      });
    }
  }

  private static String readLine(Socket s) throws IOException {
    BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(),
        StandardCharsets.US_ASCII));
    String line = in.readLine();
    if (line == null) {
      throw new IOException("connection closed without a line");
    }
    return line;
  }

  private static String exchange(DatagramSocket s, String message) throws IOException {
    byte[] out = message.getBytes(StandardCharsets.US_ASCII);
    s.send(new DatagramPacket(out, out.length));
    DatagramPacket in = new DatagramPacket(new byte[512], 512);
    s.receive(in);
    return new String(in.getData(), 0, in.getLength(), StandardCharsets.US_ASCII).strip();
  }

  private static String echo(Socket s, String line) throws IOException {
    OutputStream out = s.getOutputStream();
    out.write((line + "\n").getBytes(StandardCharsets.US_ASCII));
    out.flush();
    return readLine(s);
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
    Lb4Key tcp = new Lb4Key(Ipv4.parse(VIP), 80, Protocol.TCP, Lb4Key.SCOPE_EXTERNAL, 0);
    Lb4Key udp = new Lb4Key(Ipv4.parse(VIP), 53, Protocol.UDP, Lb4Key.SCOPE_EXTERNAL, 0);
    node.maps.frontend(tcp, TCP_REV_NAT, Lb4Service.F_NO_BACKENDS, 0);
    node.maps.frontend(udp, UDP_REV_NAT, Lb4Service.F_NO_BACKENDS, 0);

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
    assertThat(node.maps.packets(MetricsKey.REASON_NO_SERVICE_BACKEND, MetricsKey.DIR_EGRESS))
        .isGreaterThanOrEqualTo(3);
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
}
