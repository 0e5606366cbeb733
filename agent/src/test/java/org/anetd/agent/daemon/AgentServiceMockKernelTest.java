package org.anetd.agent.daemon;

import static org.anetd.agent.daemon.ClusterFixtures.clusterIp;
import static org.anetd.agent.daemon.ClusterFixtures.node;
import static org.anetd.agent.daemon.ClusterFixtures.slice;
import static org.anetd.agent.testing.PodNetwork.echo;
import static org.anetd.agent.testing.PodNetwork.readLine;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;
import io.fabric8.kubernetes.client.dsl.NonDeletingOperation;
import org.anetd.agent.testing.CgroupClient;
import org.anetd.agent.testing.CgroupPrograms;
import org.anetd.agent.testing.KernelTest;
import org.anetd.agent.testing.NetnsLab;
import org.anetd.agent.testing.PodNetwork;
import org.anetd.agent.testing.PodNetwork.Pod;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agent end to end: objects created through the API (fabric8's CRUD mock server) become
 * datapath state the real programs use, in network namespaces.
 *
 * <pre>
 *  mock API server --informers--> Agent (in-process) --maps--> bpf_lxc on every pod veth
 *  netns client 198.18.0.2 -> ClusterIP 198.19.0.10:80 -> pod-a 198.18.0.3 / pod-b 198.18.0.4 :8080
 * </pre>
 */
@KernelTest
@EnableKubernetesMockClient(crud = true)
class AgentServiceMockKernelTest {
  private static final String VIP = "198.19.0.10";
  private static final Duration SETTLE = Duration.ofSeconds(15);

  static KubernetesClient client;

  @TempDir
  Path configDir;

  private AgentOptions options(Path pins) throws IOException {
    Files.writeString(configDir.resolve("bpf-root"), pins.toString());
    Files.writeString(configDir.resolve("prometheus-serve-addr"), "");
    Files.writeString(configDir.resolve("health-serve-addr"), "127.0.0.1:" + freePort());
    return new AgentOptions(ClusterFixtures.NODE, Optional.empty(), Optional.of(configDir),
        configDir.resolve("state"), Duration.ofSeconds(1))
        .withCni(configDir.resolve("cni.sock"), Optional.of("198.18.0.0/24"), Optional.empty());
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  private Agent startAgent(NetnsLab lab, AgentOptions options) {
    Agent agent = Agent.start(options, client);
    lab.onClose(agent::close);
    return agent;
  }

  /** The count of the ConfigRejected Event on kube-system/cilium-config (0: none). */
  private static int configRejectedEventCount() {
    return client.v1().events().inNamespace("kube-system").list().getItems().stream()
        .filter(e -> "ConfigRejected".equals(e.getReason())
            && "cilium-config".equals(e.getInvolvedObject().getName())
            && e.getMessage().contains("bpf-lb-map-max: \"lots\""))
        .mapToInt(e -> e.getCount()).sum();
  }

  /** Replaces the slice's endpoints (the mock server has no server-side apply). */
  private static void apply(EndpointSlice slice) {
    client.resources(EndpointSlice.class).inNamespace(slice.getMetadata().getNamespace())
        .withName(slice.getMetadata().getName()).edit(current -> {
          current.setEndpoints(slice.getEndpoints());
          return current;
        });
  }

  @Test
  void aMetricsAddressThatCannotBeBoundLeavesTheAgentRunningWithoutMetrics(NetnsLab lab)
      throws Exception {
    AgentOptions options = options(lab.bpffsDir("agent-metrics"));
    client.resource(node()).createOr(NonDeletingOperation::update);
    lab.onClose(() -> client.resource(node()).delete()); // the other tests create their own
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
      Files.writeString(configDir.resolve("prometheus-serve-addr"),
          "127.0.0.1:" + taken.getLocalPort());

      Agent agent = startAgent(lab, options);

      assertThat(agent.metrics().problemCount("MetricsServerUnavailable")).isEqualTo(1);
      assertThat(agent.summary()).contains("Metrics:").contains("UNAVAILABLE: cannot serve on");
      await().atMost(SETTLE).until(() -> agent.health().notReady().isEmpty());
    }
  }

  @Test
  void theAgentIsNotReadyWhileItsCniServerRefusesEveryAdd(NetnsLab lab) throws Exception {
    AgentOptions options = options(lab.bpffsDir("agent-cni"))
        .withCni(configDir.resolve("cni.sock"), Optional.empty(), Optional.empty());
    client.resource(new io.fabric8.kubernetes.api.model.NodeBuilder(node()).editSpec()
        .withPodCIDR(null).endSpec().build()).createOr(NonDeletingOperation::update);
    lab.onClose(() -> client.resource(node()).delete()); // the other tests create their own

    Agent agent = startAgent(lab, options);

    // Synced and reconciled: the CNI server is all that keeps it from being ready.
    await().atMost(SETTLE).untilAsserted(() -> assertThat(agent.health().notReady())
        .containsExactly("CNI: no pod CIDR yet: waiting for Node " + ClusterFixtures.NODE
            + "'s spec.podCIDR (or --pod-cidr)"));

    client.resource(node()).update(); // the Node gets its pod CIDR
    await().atMost(SETTLE).until(() -> agent.health().notReady().isEmpty());
  }

  @Test
  void servicesFollowTheApiAndSurviveAnAgentRestart(NetnsLab lab) throws Exception {
    Path pins = lab.bpffsDir("agent");
    AgentOptions options = options(pins);
    client.resource(node()).create();
    client.resource(clusterIp("default", "web", VIP, 80, 8080)).create();
    client.resource(slice("default", "web", 8080, "198.18.0.3")).create();
    Agent agent = startAgent(lab, options);
    PodNetwork net = new PodNetwork(lab);
    var from = agent.datapath().fromContainer();
    var to = agent.datapath().toContainer();
    Pod clientPod = net.pod("client", "198.18.0.2", from, to);
    net.backend("pod-a", "198.18.0.3", from, to);
    net.backend("pod-b", "198.18.0.4", from, to);

    // 1. Created through the API: traffic flows to the one endpoint.
    await().atMost(SETTLE).ignoreExceptions().untilAsserted(() ->
        assertThat(clientPod.greeting(VIP, 80)).startsWith("pod-a "));

    // 2. Scaled: traffic follows to both endpoints.
    apply(slice("default", "web", 8080, "198.18.0.3", "198.18.0.4"));
    Set<String> seen = new HashSet<>();
    await().atMost(SETTLE).untilAsserted(() -> {
      seen.add(clientPod.greeting(VIP, 80).split(" ")[0]);
      assertThat(seen).containsExactlyInAnyOrder("pod-a", "pod-b");
    });

    // 3. A long-lived connection keeps working across an agent restart, which rewrites nothing.
    try (Socket longLived = clientPod.connect(VIP, 80)) {
      readLine(longLived);
      assertThat(echo(longLived, "before")).isEqualTo("before");
      agent.close();
      Agent restarted = startAgent(lab, options);
      assertThat(echo(longLived, "while-restarting")).isEqualTo("while-restarting");
      await().atMost(SETTLE).until(() -> restarted.lastReport().isPresent());
      Reconciler.Report first = restarted.lastReport().orElseThrow();
      assertThat(first.services().changes()).as("services rewritten after restart").isZero();
      assertThat(echo(longLived, "after-restart")).isEqualTo("after-restart");
      agent = restarted;
    }

    // 4. No endpoints left: connections are refused at once, not left to time out.
    apply(slice("default", "web", 8080));
    await().atMost(SETTLE).untilAsserted(() ->
        assertThatThrownBy(() -> clientPod.greeting(VIP, 80))
            .hasRootCauseInstanceOf(ConnectException.class)
            .hasRootCauseMessage("Connection refused"));

    // 5. Service deleted: the address is no longer a frontend.
    client.resource(clusterIp("default", "web", VIP, 80, 8080)).delete();
    Agent last = agent;
    await().atMost(SETTLE).untilAsserted(() ->
        assertThat(last.lastReport().orElseThrow().serviceTotals().serviceEntries()).isZero());
    assertThatThrownBy(() -> clientPod.greeting(VIP, 80)).isInstanceOf(RuntimeException.class);
  }

  @Test
  void socketLoadBalancingFollowsTheConfigAndKeepsItsLinksAcrossARestartEvenWhileTheConfigIsRejected(NetnsLab lab)
      throws Exception {
    String vip = "198.19.0.11";
    Path cgroup = lab.cgroup("agent-sock"); // first: removed after the links on it
    Path pins = lab.bpffsDir("agent-sock");
    AgentOptions options = options(pins);
    Files.writeString(configDir.resolve("bpf-lb-sock"), "true");
    Files.writeString(configDir.resolve("cgroup-root"), cgroup.toString());
    client.resource(node()).createOr(NonDeletingOperation::update);
    client.resource(clusterIp("default", "sock", vip, 80, 8080))
        .createOr(NonDeletingOperation::update);
    client.resource(slice("default", "sock", 8080, "198.18.0.3"))
        .createOr(NonDeletingOperation::update);
    Agent agent = startAgent(lab, options);
    PodNetwork net = new PodNetwork(lab);
    Pod clientPod = net.pod("client", "198.18.0.2", agent.datapath().fromContainer(),
        agent.datapath().toContainer());
    net.backend("pod-a", "198.18.0.3", agent.datapath().fromContainer(),
        agent.datapath().toContainer());
    String expected = vip + ":80|pod-a 198.18.0.2";

    // 1. On: a connect() from the cgroup is sent to the backend by the socket program.
    assertThat(agent.summary()).contains("Socket LB:").contains("Enabled on cgroup " + cgroup);
    Agent on = agent;
    // until one connect() met the service in the maps: one made while the first pass was still
    // writing them reaches the backend per packet instead (the service appeared before its SYN)
    await().atMost(SETTLE).untilAsserted(() -> {
      assertThat(CgroupClient.tcp(cgroup, clientPod.ns(), vip, 80).output().strip())
          .isEqualTo(expected);
      assertThat(on.datapath().socketTranslations()).isPositive();
    });
    assertThat(agent.summary()).containsPattern("Socket LB: +Enabled on cgroup .*, [1-9][0-9]*"
        + " connects translated");

    // 2. Restarted while cilium-config is rejected: the new agent runs the last accepted version
    //    (not the defaults, which would detach the socket programs and pin maps elsewhere), and
    //    its programs go into the same pinned links, not next to them.
    //    The rejection is counted and reported as an Event on the ConfigMap, at run time and again
    //    by the restarted agent.
    Files.writeString(configDir.resolve("bpf-lb-map-max"), "lots");
    Agent first = agent;
    await().atMost(SETTLE).until(() -> first.metrics().configRejections() == 1);
    await().atMost(SETTLE).until(() -> configRejectedEventCount() == 1);
    agent.close();
    agent = startAgent(lab, options);
    assertThat(agent.metrics().configRejections()).isEqualTo(1);
    await().atMost(SETTLE).until(() -> configRejectedEventCount() == 2);
    assertThat(agent.summary()).contains("running the last accepted cilium-config of")
        .contains("the current one is rejected: bpf-lb-map-max: \"lots\"")
        .contains("Enabled on cgroup " + cgroup);
    assertThat(CgroupPrograms.socketPrograms(cgroup))
        .as("connect4, sendmsg4, recvmsg4, getpeername4, their three v6 twins, sock_release")
        .isEqualTo(8);
    assertThat(CgroupClient.tcp(cgroup, clientPod.ns(), vip, 80).output().strip())
        .isEqualTo(expected);
    Files.delete(configDir.resolve("bpf-lb-map-max"));

    // 3. Turned off in the config (live): links detached, the per-packet path serves.
    Files.writeString(configDir.resolve("bpf-lb-sock"), "false");
    Agent running = agent;
    await().atMost(SETTLE).untilAsserted(() ->
        assertThat(running.summary()).contains("Disabled (per packet"));
    assertThat(CgroupPrograms.socketPrograms(cgroup)).isZero();
    assertThat(CgroupClient.tcp(cgroup, clientPod.ns(), vip, 80).output().strip())
        .isEqualTo(expected);

    // 4. bpf-lb-sock unset, kube-proxy-replacement true: on, as Cilium has it with a full
    //    kube-proxy replacement.
    Files.writeString(configDir.resolve("kube-proxy-replacement"), "true");
    Files.delete(configDir.resolve("bpf-lb-sock"));
    await().atMost(SETTLE).untilAsserted(() ->
        assertThat(running.summary()).contains("Enabled on cgroup " + cgroup));
    assertThat(CgroupPrograms.socketPrograms(cgroup))
        .as("connect4, sendmsg4, recvmsg4, getpeername4, their three v6 twins, sock_release")
        .isEqualTo(8);
    long before = running.datapath().socketTranslations();
    assertThat(CgroupClient.tcp(cgroup, clientPod.ns(), vip, 80).output().strip())
        .isEqualTo(expected);
    assertThat(running.datapath().socketTranslations()).isGreaterThan(before);
  }
}
