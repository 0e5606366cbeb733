package org.anetd.agent.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.List;
import org.anetd.agent.bpf.BpfProgram;
import org.anetd.agent.bpf.NetworkNamespace;
import org.anetd.agent.bpf.TcAttachment;
import org.anetd.agent.datapath.Ipv4;
import org.anetd.agent.datapath.LxcWriter;
import org.anetd.agent.endpoint.AttachmentKey;
import org.anetd.agent.endpoint.BpfEndpointDatapath;
import org.anetd.agent.endpoint.Endpoint;
import org.anetd.agent.endpoint.EndpointPublisher;
import org.anetd.agent.endpoint.IpRouteLinkOps;
import org.anetd.agent.endpoint.LinkOps;
import org.anetd.agent.endpoint.PodRef;

/**
 * A node and its pods in network namespaces, wired the way the CNI wires real pods.
 *
 * <pre>
 *  netns pod-x 198.18.0.X/32 (eth0, default via 169.254.1.1)
 *        ||
 *      hv-x  (tc ingress: from_container, tc egress: to_container)
 *  netns node: ip_forward=1, proxy_arp=1 on hv-*, 198.18.0.X/32 dev hv-x
 *      up0 (default route) ==veth== eth0 netns world (where unknown destinations end)
 * </pre>
 *
 * With an {@link LxcWriter}, pods are attached as the agent attaches endpoints
 * ({@link BpfEndpointDatapath#reattach}: programs, then the anetd_lxc entry), so traffic between
 * them takes the datapath's local delivery; without one, only the programs are attached.
 */
public final class PodNetwork {
  private final NetnsLab lab;
  private final NetnsLab.Netns node;
  private final NetnsLab.Netns world;
  private final Map<String, Pod> pods = new LinkedHashMap<>();
  private final LxcWriter lxc;

  public PodNetwork(NetnsLab lab) {
    this(lab, null);
  }

  /** @param lxc the local delivery map of the programs the pods get; null: none */
  public PodNetwork(NetnsLab lab, LxcWriter lxc) {
    this.lab = lab;
    this.lxc = lxc;
    node = lab.netns("node");
    node.run("sysctl", "-qw", "net.ipv4.ip_forward=1", "net.ipv4.conf.all.rp_filter=0",
        "net.ipv4.conf.default.rp_filter=0");
    world = lab.netns("world");
    lab.veth(node, "up0", world, "eth0");
    node.ip("route", "add", "default", "dev", "up0");
  }

  public NetnsLab.Netns node() {
    return node;
  }

  /** Behind the node's uplink up0 (its eth0): where external clients live. */
  public NetnsLab.Netns world() {
    return world;
  }

  public Map<String, Pod> pods() {
    return pods;
  }

  /** A pod whose host veth runs {@code from} on tc ingress and {@code to} on tc egress. */
  public Pod pod(String name, String ip, BpfProgram from, BpfProgram to) {
    NetnsLab.Netns p = lab.netns(name);
    String hveth = "hv-" + name.replace("pod-", "");
    lab.veth(node, hveth, p, "eth0");
    p.ip("addr", "add", ip + "/32", "dev", "eth0");
    p.ip("route", "add", "169.254.1.1", "dev", "eth0", "scope", "link");
    p.ip("route", "add", "default", "via", "169.254.1.1");
    node.run("sysctl", "-qw", "net.ipv4.conf." + hveth + ".proxy_arp=1",
        "net.ipv4.neigh." + hveth + ".proxy_delay=0");
    node.ip("route", "add", ip + "/32", "dev", hveth);
    if (lxc != null) {
      attachAsEndpoint(node, hveth, p, ip, pods.size() + 1, from, to, lxc);
    } else {
      node.call(() -> {
        int ifindex = NetworkNamespace.ifindex(hveth);
        TcAttachment.attach(ifindex, TcAttachment.Direction.INGRESS, from);
        TcAttachment.attach(ifindex, TcAttachment.Direction.EGRESS, to);
        return null;
      });
    }
    Pod pod = new Pod(name, ip, p);
    pods.put(name, pod);
    return pod;
  }

  /**
   * Attaches {@code from}/{@code to} to {@code hveth} (the host end of {@code pod}'s eth0) with
   * the agent's own code, {@link BpfEndpointDatapath#reattach}, which also writes the endpoint's
   * anetd_lxc entry. Returns the endpoint it made up (id {@code id}, MACs read from the links).
   */
  public static Endpoint attachAsEndpoint(NetnsLab.Netns node, String hveth, NetnsLab.Netns pod,
      String ip, int id, BpfProgram from, BpfProgram to, LxcWriter lxc) {
    IpRouteLinkOps links = new IpRouteLinkOps();
    LinkOps.Link host = links.link(node.path(), hveth).orElseThrow();
    LinkOps.Link eth0 = links.link(pod.path(), "eth0").orElseThrow();
    Endpoint e = new Endpoint(id, new AttachmentKey("test-" + hveth, "eth0"), PodRef.UNKNOWN,
        Ipv4.parse(ip), hveth, host.ifindex(), host.mac(), eth0.mac(), pod.path().toString());
    new BpfEndpointDatapath(from, to, node.path(), EndpointPublisher.NONE, lxc, List.of())
        .reattach(e);
    return e;
  }

  /** A pod serving TCP 8080 ("name peer-address", then echo) and UDP 5353 ("name peer"). */
  public Pod backend(String name, String ip, BpfProgram from, BpfProgram to) {
    Pod pod = pod(name, ip, from, to);
    serve(pod.ns, name);
    return pod;
  }

  /**
   * Serves TCP 8080 ("name peer-address", then echo) and UDP 5353 ("name peer") in {@code ns}
   * on every address it has, like {@link #backend}: a server outside the node's pods (behind
   * the uplink, or in the node's own host network).
   */
  public static void serve(NetnsLab.Netns ns, String name) {
    Process tcp = ns.spawn("socat", "TCP-LISTEN:8080,fork,reuseaddr",
        "SYSTEM:echo " + name + " $SOCAT_PEERADDR; exec cat");
    // The datagram is drained by cat (echo alone could die of SIGPIPE before replying);
    // -T 1 ends each per-datagram child after a second of silence.
    Process udp = ns.spawn("socat", "-T", "1", "UDP-RECVFROM:5353,fork",
        "SYSTEM:echo " + name + " $SOCAT_PEERADDR; exec cat >/dev/null");
    await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(20))
        .failFast("a socat server of " + name + " exited", () -> !tcp.isAlive() || !udp.isAlive())
        .untilAsserted(() -> assertThat(ns.exec(5, "ss", "-Hln",
            "sport = :8080 or sport = :5353").output().lines() // ss may add netlink noise
            .filter(l -> l.startsWith("tcp") || l.startsWith("udp"))).as("listening sockets")
            .hasSize(2));
  }

  /** A pod: its name, address and namespace; sockets opened here live in its namespace. */
  public record Pod(String name, String ip, NetnsLab.Netns ns) {
    /**
     * Opens a TCP connection from inside the pod (the socket stays in the pod's netns); a failure
     * is an UncheckedIOException around the socket's own exception.
     */
    public Socket connect(String host, int port) {
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
    public String greeting(String host, int port) {
      try (Socket s = connect(host, port)) {
        return readLine(s);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    public DatagramSocket udp(String host, int port) {
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

  public static String readLine(Socket s) throws IOException {
    BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(),
        StandardCharsets.US_ASCII));
    String line = in.readLine();
    if (line == null) {
      throw new IOException("connection closed without a line");
    }
    return line;
  }

  /** A UDP server on {@code port} in {@code ns} that sends every datagram back whole. */
  public static void serveUdpEcho(NetnsLab.Netns ns, int port) {
    Process server = ns.spawn("python3", "-c", "import socket\n"
        + "s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.bind(('0.0.0.0'," + port + "))\n"
        + "while True:\n"
        + "  d,a=s.recvfrom(65535); s.sendto(d,a)\n");
    await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(20))
        .failFast("the UDP echo server exited", () -> !server.isAlive())
        .untilAsserted(() -> assertThat(ns.exec(5, "ss", "-Hlun", "sport = :" + port).output())
            .contains(":" + port));
  }

  /**
   * Sends one datagram of {@code size} bytes on the connected socket {@code s} to a {@link
   * #serveUdpEcho} server and whether the same bytes came back (larger than the MTU: fragmented
   * both ways).
   */
  public static boolean echoesWhole(DatagramSocket s, int size) throws IOException {
    byte[] out = new byte[size];
    for (int i = 0; i < size; i++) {
      out[i] = (byte) (i * 7);
    }
    s.send(new DatagramPacket(out, size));
    DatagramPacket in = new DatagramPacket(new byte[65535], 65535);
    s.receive(in);
    return Arrays.equals(out, 0, size, in.getData(), 0, in.getLength());
  }

  public static String exchange(DatagramSocket s, String message) throws IOException {
    byte[] out = message.getBytes(StandardCharsets.US_ASCII);
    s.send(new DatagramPacket(out, out.length));
    DatagramPacket in = new DatagramPacket(new byte[512], 512);
    s.receive(in);
    return new String(in.getData(), 0, in.getLength(), StandardCharsets.US_ASCII).strip();
  }

  public static String echo(Socket s, String line) throws IOException {
    OutputStream out = s.getOutputStream();
    out.write((line + "\n").getBytes(StandardCharsets.US_ASCII));
    out.flush();
    return readLine(s);
  }
}
