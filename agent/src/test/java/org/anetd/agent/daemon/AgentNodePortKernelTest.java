package org.anetd.agent.daemon;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.NonDeletingOperation;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.anetd.agent.bpf.NetworkNamespace;
import org.anetd.agent.bpf.TcAttachment;
import org.anetd.agent.testing.KernelTest;
import org.anetd.agent.testing.NetnsLab;
import org.anetd.agent.testing.PodNetwork;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * With kube-proxy-replacement, the agent serves NodePorts on the node's uplink: a client outside
 * the node reaches a pod made through the CNI path, and the pod sees the client's own address.
 *
 * <pre>
 *  netns upstream 198.18.255.254 --uplink--> node 198.18.255.1:30080 (bpf_host) --> pod web:8080
 * </pre>
 */
@KernelTest
@EnableKubernetesMockClient(crud = true)
class AgentNodePortKernelTest {
  static KubernetesClient client;

  @TempDir
  Path dir;

  /** The Node and the default namespace; the mock API server is shared by this class's tests. */
  private static void createNode(NetnsLab lab) {
    client.resource(ClusterFixtures.node()).createOr(NonDeletingOperation::update);
    client.resource(ClusterFixtures.namespace("default")).createOr(NonDeletingOperation::update);
    lab.onClose(() -> client.resource(ClusterFixtures.node()).delete());
  }

  @Test
  void nodePortFromOutsideReachesThePodWithTheClientAddressKept(NetnsLab lab) {
    createNode(lab);
    AgentHarness harness = new AgentHarness(lab, client, dir);
    // bpf-lb-sock off: with kube-proxy-replacement alone the agent would link socket programs to
    // the cgroup root of the machine running the test.
    harness.start(Map.of("kube-proxy-replacement", "true", "bpf-lb-sock", "false"));
    PodNetwork.Pod web = harness.pod("web", Map.of("app", "web"));
    web.ns().spawn("socat", "TCP-LISTEN:8080,fork,reuseaddr",
        "SYSTEM:echo web $SOCAT_PEERADDR; exec cat");
    client.resource(new ServiceBuilder().withNewMetadata().withNamespace("default").withName("web")
        .endMetadata().withNewSpec().withType("NodePort").withClusterIP("198.19.0.10")
        .withClusterIPs("198.19.0.10").addNewPort().withPort(80).withProtocol("TCP")
        .withTargetPort(new IntOrString(8080)).withNodePort(30080).endPort().endSpec().build())
        .create();
    client.resource(ClusterFixtures.slice("default", "web", 8080, web.ip())).create();
    PodNetwork.Pod outside = new PodNetwork.Pod("outside", "198.18.255.254", harness.upstream);

    await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(200)).ignoreExceptions()
        .untilAsserted(() -> assertThat(outside.greeting(ClusterFixtures.NODE_IP, 30080))
            .isEqualTo("web 198.18.255.254"));
  }

  @Test
  void restartedWithoutKubeProxyReplacementTheAgentRemovesTheNodeProgramsOfTheEarlierRun(
      NetnsLab lab) {
    createNode(lab);
    AgentHarness harness = new AgentHarness(lab, client, dir);
    harness.start(Map.of("kube-proxy-replacement", "true", "bpf-lb-sock", "false")).close();
    // they stay when the agent stops, so that NodePorts survive a restart
    assertThat(uplinkFilters(harness, "ingress")).contains("from_netdev");
    assertThat(uplinkFilters(harness, "egress")).contains("to_netdev");

    // NodePorts handed back to kube-proxy
    harness.start(Map.of("kube-proxy-replacement", "false", "bpf-lb-sock", "false"));

    assertThat(anetdProgramId(harness, TcAttachment.Direction.INGRESS)).isZero();
    assertThat(anetdProgramId(harness, TcAttachment.Direction.EGRESS)).isZero();
    assertThat(uplinkFilters(harness, "ingress")).doesNotContain("from_netdev");
    assertThat(uplinkFilters(harness, "egress")).doesNotContain("to_netdev");
    assertThat(harness.node.run("tc", "qdisc", "show", "dev", "uplink")).contains("clsact");
  }

  @Test
  void restartedAfterTheDefaultRouteMovedTheAgentRemovesTheEarlierRunsNodeProgramsFromTheOldUplink(
      NetnsLab lab) {
    createNode(lab);
    AgentHarness harness = new AgentHarness(lab, client, dir);
    harness.start(Map.of("kube-proxy-replacement", "true", "bpf-lb-sock", "false")).close();
    assertThat(anetdProgramName(harness, "uplink", TcAttachment.Direction.INGRESS))
        .isEqualTo("from_netdev");
    // the node moved to a new uplink: the default route and the Node's address are there now;
    // the old one keeps a global address of its own, neither routed nor the Node's
    lab.veth(harness.node, "uplink2", harness.upstream, "eth1");
    harness.upstream.ip("addr", "del", "198.18.255.254/24", "dev", "eth0");
    harness.upstream.ip("addr", "add", "198.18.255.254/24", "dev", "eth1");
    harness.node.ip("route", "del", "default");
    harness.node.ip("addr", "del", ClusterFixtures.NODE_IP + "/24", "dev", "uplink");
    harness.node.ip("addr", "add", "198.18.254.1/24", "dev", "uplink");
    harness.node.ip("addr", "add", ClusterFixtures.NODE_IP + "/24", "dev", "uplink2");
    harness.node.ip("route", "add", "default", "via", "198.18.255.254", "dev", "uplink2");

    harness.start(Map.of("kube-proxy-replacement", "true", "bpf-lb-sock", "false"));

    // the Node is known once the agent has started (its pod CIDR came from it)
    await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(100))
        .untilAsserted(() -> {
          assertThat(anetdProgramId(harness, "uplink", TcAttachment.Direction.INGRESS)).isZero();
          assertThat(anetdProgramId(harness, "uplink", TcAttachment.Direction.EGRESS)).isZero();
        });
    assertThat(anetdProgramName(harness, "uplink2", TcAttachment.Direction.INGRESS))
        .isEqualTo("from_netdev");
    assertThat(anetdProgramName(harness, "uplink2", TcAttachment.Direction.EGRESS))
        .isEqualTo("to_netdev");
  }

  /** `tc filter show` of the node's uplink in {@code direction} (ingress, egress). */
  private static String uplinkFilters(AgentHarness harness, String direction) {
    return harness.node.run("tc", "filter", "show", "dev", "uplink", direction);
  }

  /** The id of the program at anetd's handle and priority on the uplink, 0 when none. */
  private static int anetdProgramId(AgentHarness harness, TcAttachment.Direction direction) {
    return anetdProgramId(harness, "uplink", direction);
  }

  /** The id of the program at anetd's handle and priority on the node's {@code ifname}, or 0. */
  private static int anetdProgramId(AgentHarness harness, String ifname,
      TcAttachment.Direction direction) {
    return harness.node.call(() -> TcAttachment.attachedProgramId(
        NetworkNamespace.ifindex(ifname), direction));
  }

  /** The name of the program at anetd's handle and priority on the node's {@code ifname}, or "". */
  private static String anetdProgramName(AgentHarness harness, String ifname,
      TcAttachment.Direction direction) {
    return harness.node.call(() -> TcAttachment.attachedProgram(NetworkNamespace.ifindex(ifname),
        direction).map(org.anetd.agent.bpf.ProgramInfo::name).orElse(""));
  }
}
