package org.anetd.agent.endpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.anetd.agent.bpf.BpfMap;
import org.anetd.agent.bpf.BpfObject;
import org.anetd.agent.bpf.NetworkNamespace;
import org.anetd.agent.bpf.TcAttachment;
import org.anetd.agent.datapath.Ct4Key;
import org.anetd.agent.datapath.Ct4KeyCodec;
import org.anetd.agent.datapath.Ipcache4Key;
import org.anetd.agent.datapath.Ipcache4KeyCodec;
import org.anetd.agent.datapath.Ipcache4ValueCodec;
import org.anetd.agent.datapath.Ipv4;
import org.anetd.agent.datapath.Ipv4KeyCodec;
import org.anetd.agent.datapath.Lxc4Info;
import org.anetd.agent.datapath.Lxc4InfoCodec;
import org.anetd.agent.datapath.LxcWriter;
import org.anetd.agent.datapath.MapBackend;
import org.anetd.agent.testing.EbpfObjects;
import org.anetd.agent.testing.KernelTest;
import org.anetd.agent.testing.NetnsLab;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The CNI path end to end: the C plugin binary, the agent's socket, IPAM, veths, routes and the
 * pod programs, with two pods talking through the node.
 *
 * <pre>
 *   netns pod-a                       netns node (plays the root namespace)        netns pod-b
 *   eth0 198.18.8.2/32 ==veth== lxcA    ip_forward=1                          lxcB ==veth== eth0 198.18.8.3/32
 *                                       uplink 198.18.255.1/24 ==veth== netns upstream .254
 *   net1 198.18.200.2/24 (another plugin's, must stay untouched)
 *   default via 169.254.1.1           198.18.8.2 dev lxcA, 198.18.8.3 dev lxcB
 * </pre>
 */
@KernelTest
class CniKernelTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String POD_CIDR = "198.18.8.0/24";

  @TempDir
  Path state;

  private record Node(NetnsLab.Netns netns, EndpointManager manager, IpamStore ipam,
      Path ipcachePin, Path lxcPin, Path ctAnyPin, CniServer server, Path socket) {}

  private Node startNode(NetnsLab lab) {
    NetnsLab.Netns node = lab.netns("node");
    node.run("sysctl", "-q", "-w", "net.ipv4.ip_forward=1");
    // A node has an uplink and a default route; proxy ARP answers for 169.254.1.1 only when the
    // node has a route to it.
    NetnsLab.Netns upstream = lab.netns("upstream");
    lab.veth(node, "uplink", upstream, "eth0");
    node.ip("addr", "add", "198.18.255.1/24", "dev", "uplink");
    upstream.ip("addr", "add", "198.18.255.254/24", "dev", "eth0");
    node.ip("route", "add", "default", "via", "198.18.255.254", "dev", "uplink");

    // The endpoint room alone: its own bpf_lxc, and the ipcache written directly (in the agent,
    // the reconciler writes it; see AgentEndpointsKernelTest).
    BpfObject lxc = BpfObject.openFile(EbpfObjects.path("bpf_lxc.o"));
    lab.onClose(lxc::close);
    lxc.pinMapsUnder(lab.bpffsDir("cni")).load();
    BpfEndpointDatapath datapath = new BpfEndpointDatapath(lxc.program("from_container"),
        lxc.program("to_container"), node.path(),
        new DirectIpcachePublisher(lxc.map("anetd_ipcache4"), Ipv4.parse("198.18.255.1")),
        new LxcWriter(MapBackend.of(lxc.map("anetd_lxc"))),
        List.of(MapBackend.of(lxc.map("anetd_ct4_tcp")), MapBackend.of(lxc.map("anetd_ct4_any"))));
    IpamStore ipam = new IpamStore(state.resolve("ipam"), PodCidr.parse(POD_CIDR),
        Clock.systemUTC());
    EndpointManager manager = new EndpointManager(node.path(), ipam,
        new EndpointRegistry(state.resolve("endpoints")), datapath, new IpRouteLinkOps());
    Path socket = state.resolve("cni.sock");
    CniServer server = CniServer.start(socket, manager);
    lab.onClose(server::close);
    return new Node(node, manager, ipam, lxc.pinPaths().get("anetd_ipcache4"),
        lxc.pinPaths().get("anetd_lxc"), lxc.pinPaths().get("anetd_ct4_any"), server, socket);
  }

  private static CniPlugin.Run cni(Node node, String command, String containerId,
      NetnsLab.Netns pod) {
    return CniPlugin.run(Map.of("CNI_COMMAND", command, "CNI_CONTAINERID", containerId,
        "CNI_NETNS", pod.path().toString(), "CNI_IFNAME", "eth0",
        "CNI_ARGS", "IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=" + pod.name(),
        "CNI_PATH", CniPlugin.binary().getParent().toString()), CniPlugin.config(node.socket()));
  }

  /** Every address in the tuples of the node's UDP/ICMP conntrack table. */
  private static java.util.Set<String> conntrackAddresses(Node node) {
    try (BpfMap ct = BpfMap.openPinned(node.ctAnyPin())) {
      java.util.Set<String> out = new java.util.TreeSet<>();
      for (BpfMap.Entry e : ct.entries()) {
        Ct4Key key = Ct4KeyCodec.INSTANCE.decode(e.key());
        out.add(key.saddr().toString());
        out.add(key.daddr().toString());
      }
      return out;
    }
  }

  private static String hostVeth(String containerId) {
    return HostVethName.of(new AttachmentKey(containerId, "eth0"));
  }

  @Test
  void twoPodsAddedThroughThePluginReachEachOtherAndDelRemovesEverything(NetnsLab lab)
      throws Exception {
    Node node = startNode(lab);
    NetnsLab.Netns podA = lab.netns("pod-a");
    NetnsLab.Netns podB = lab.netns("pod-b");
    NetnsLab.Netns otherNetwork = lab.netns("other");
    lab.veth(podA, "net1", otherNetwork, "peer"); // what another (Multus) plugin made
    podA.ip("addr", "add", "198.18.200.2/24", "dev", "net1");

    CniPlugin.Run addA = cni(node, "ADD", "ctr-a", podA);
    CniPlugin.Run addB = cni(node, "ADD", "ctr-b", podB);

    assertThat(addA.exitCode()).as(addA.stdout() + addA.stderr()).isZero();
    assertThat(addB.exitCode()).as(addB.stdout() + addB.stderr()).isZero();
    JsonNode result = JSON.readTree(addA.stdout());
    assertThat(result.path("cniVersion").asText()).isEqualTo("1.0.0");
    assertThat(result.at("/interfaces/0/name").asText()).isEqualTo(hostVeth("ctr-a"));
    assertThat(result.at("/interfaces/0/mac").asText()).matches("([0-9a-f]{2}:){5}[0-9a-f]{2}");
    assertThat(result.at("/interfaces/0/sandbox").isMissingNode()).isTrue();
    assertThat(result.at("/interfaces/1/name").asText()).isEqualTo("eth0");
    assertThat(result.at("/interfaces/1/sandbox").asText()).isEqualTo(podA.path().toString());
    assertThat(result.path("ips")).isEqualTo(JSON.readTree(
        "[{\"address\":\"198.18.8.2/32\",\"gateway\":\"169.254.1.1\",\"interface\":1}]"));
    assertThat(result.path("routes")).isEqualTo(JSON.readTree("[{\"dst\":\"0.0.0.0/0\"}]"));
    assertThat(result.path("dns")).isEqualTo(JSON.readTree("{}"));
    assertThat(JSON.readTree(addB.stdout()).at("/ips/0/address").asText())
        .isEqualTo("198.18.8.3/32");

    assertThat(podA.ip("-4", "addr", "show", "dev", "eth0")).contains("inet 198.18.8.2/32");
    assertThat(podA.ip("route", "show")).contains("default via 169.254.1.1 dev eth0")
        .contains("169.254.1.1 dev eth0 scope link");
    assertThat(node.netns().ip("route", "show")).contains("198.18.8.2 dev " + hostVeth("ctr-a"));

    // Pod to pod through the node, and pod to the node.
    await().atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(200)).untilAsserted(
        () -> assertThat(podA.exec(5, "ping", "-c", "1", "-W", "1", "198.18.8.3").exitCode())
            .isZero());
    assertThat(podA.run("ping", "-c", "3", "-i", "0.2", "-W", "1", "198.18.8.3"))
        .contains("3 received");
    assertThat(podB.run("ping", "-c", "2", "-i", "0.2", "-W", "1", "198.18.255.1"))
        .contains("2 received");

    // The pod programs sit on the host veth, and the pod address is in the ipcache.
    for (String ctr : new String[] {"ctr-a", "ctr-b"}) {
      node.netns().call(() -> {
        int ifindex = NetworkNamespace.ifindex(hostVeth(ctr));
        assertThat(TcAttachment.attachedProgramId(ifindex, TcAttachment.Direction.INGRESS))
            .as("from_container on %s", ctr).isNotZero();
        assertThat(TcAttachment.attachedProgramId(ifindex, TcAttachment.Direction.EGRESS))
            .as("to_container on %s", ctr).isNotZero();
        return null;
      });
    }
    Endpoint endpointA = node.manager().endpoints().stream()
        .filter(e -> e.key().containerId().equals("ctr-a")).findFirst().orElseThrow();
    byte[] ipcacheKeyA = Ipcache4KeyCodec.INSTANCE.encode(Ipcache4Key.host(Ipv4.parse("198.18.8.2")));
    try (BpfMap ipcache = BpfMap.openPinned(node.ipcachePin())) {
      assertThat(Ipcache4ValueCodec.INSTANCE.decode(ipcache.lookup(ipcacheKeyA).orElseThrow())
          .endpointId()).isEqualTo(endpointA.id());
    }
    // ... and its local delivery entry names its host veth and both MACs.
    byte[] lxcKeyA = Ipv4KeyCodec.INSTANCE.encode(Ipv4.parse("198.18.8.2"));
    try (BpfMap lxcMap = BpfMap.openPinned(node.lxcPin())) {
      Lxc4Info info = Lxc4InfoCodec.INSTANCE.decode(lxcMap.lookup(lxcKeyA).orElseThrow());
      assertThat(info).isEqualTo(new Lxc4Info(endpointA.hostIfindex(), endpointA.id(),
          result.at("/interfaces/1/mac").asText(), result.at("/interfaces/0/mac").asText()));
    }
    CniPlugin.Run check = cni(node, "CHECK", "ctr-a", podA);
    assertThat(check.exitCode()).as(check.stdout()).isZero();
    assertThat(conntrackAddresses(node)).as("the pings' policy entries")
        .contains("198.18.8.2", "198.18.8.3");

    CniPlugin.Run del = cni(node, "DEL", "ctr-a", podA);
    CniPlugin.Run delAgain = cni(node, "DEL", "ctr-a", podA);

    assertThat(del.exitCode()).as(del.stdout()).isZero();
    assertThat(delAgain.exitCode()).as(delAgain.stdout()).isZero();
    assertThat(node.netns().ip("link", "show")).doesNotContain(hostVeth("ctr-a"))
        .contains(hostVeth("ctr-b"));
    assertThat(podA.ip("link", "show")).doesNotContain("eth0");
    assertThat(node.ipam().allocations()).extracting(a -> a.address().toString())
        .containsExactly("198.18.8.3");
    try (BpfMap ipcache = BpfMap.openPinned(node.ipcachePin())) {
      assertThat(ipcache.lookup(ipcacheKeyA)).isEmpty();
    }
    try (BpfMap lxcMap = BpfMap.openPinned(node.lxcPin())) {
      assertThat(lxcMap.lookup(lxcKeyA)).as("local delivery entry of a deleted pod").isEmpty();
    }
    // The next pod given the address must not inherit the deleted pod's allowed connections.
    assertThat(conntrackAddresses(node)).as("conntrack entries of a deleted pod's address")
        .doesNotContain("198.18.8.2");
    CniPlugin.Run checkGone = cni(node, "CHECK", "ctr-a", podA);
    assertThat(JSON.readTree(checkGone.stdout()).path("code").asInt())
        .isEqualTo(CniError.CHECK_FAILED);
    // The other plugin's interface never moved.
    assertThat(podA.ip("-4", "addr", "show", "dev", "net1")).contains("inet 198.18.200.2/24");
    // The next pod gets the next address; the freed one waits until the range wraps round.
    assertThat(JSON.readTree(cni(node, "ADD", "ctr-c", lab.netns("pod-c")).stdout())
        .at("/ips/0/address").asText()).isEqualTo("198.18.8.4/32");
  }

  @Test
  void delAfterThePodNamespaceIsGoneSucceedsAndFreesTheAddress(NetnsLab lab) {
    Node node = startNode(lab);
    NetnsLab.Netns pod = lab.netns("pod");
    assertThat(cni(node, "ADD", "ctr-gone", pod).exitCode()).isZero();

    pod.ip("link", "del", "eth0"); // what deleting the pod's namespace does to the veth

    CniPlugin.Run del = cni(node, "DEL", "ctr-gone", pod);
    assertThat(del.exitCode()).as(del.stdout()).isZero();
    assertThat(node.netns().ip("link", "show")).doesNotContain(hostVeth("ctr-gone"));
    assertThat(node.ipam().allocations()).isEmpty();
    assertThat(node.manager().endpoints()).isEmpty();
  }

  @Test
  void withTheAgentDownThePluginAsksTheRuntimeToTryAgain(NetnsLab lab) throws Exception {
    Node node = startNode(lab);
    NetnsLab.Netns pod = lab.netns("pod");
    node.server().close();

    CniPlugin.Run add = cni(node, "ADD", "ctr-down", pod);

    assertThat(add.exitCode()).isEqualTo(1);
    JsonNode error = JSON.readTree(add.stdout());
    assertThat(error.path("code").asInt()).isEqualTo(CniError.TRY_AGAIN_LATER);
    assertThat(error.path("msg").asText()).contains(node.socket().toString());
    assertThat(pod.ip("link", "show")).doesNotContain("eth0");
  }
}
