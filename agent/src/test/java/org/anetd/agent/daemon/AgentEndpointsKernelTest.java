package org.anetd.agent.daemon;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.anetd.agent.datapath.Datapath;
import org.anetd.agent.datapath.Ipcache4Key;
import org.anetd.agent.datapath.Ipcache4KeyCodec;
import org.anetd.agent.datapath.Ipcache4Value;
import org.anetd.agent.datapath.Ipcache4ValueCodec;
import org.anetd.agent.datapath.Ipv4;
import org.anetd.agent.endpoint.CniPlugin;
import org.anetd.agent.testing.KernelTest;
import org.anetd.agent.testing.NetnsLab;
import org.anetd.agent.testing.PodNetwork;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agent as a whole serves pods: the CNI plugin binary talks to the agent's socket, the agent
 * wires the pods with its own programs, its reconciler writes their ipcache entries before ADD
 * returns, and a ClusterIP Service created through the API carries traffic between them.
 *
 * <pre>
 *   netns pod-a 198.18.0.2 ==veth== lxcA  netns node (ip_forward)  lxcB ==veth== netns pod-b 198.18.0.3
 *   (client)                              uplink 198.18.255.1 == upstream     (socat :8080)
 *   Service web 198.19.0.10:80 -> pod-b:8080       agent in this JVM, fabric8 CRUD mock API
 * </pre>
 */
@KernelTest
@EnableKubernetesMockClient(crud = true)
class AgentEndpointsKernelTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  static KubernetesClient client;

  @TempDir
  Path tmp;

  private static Pod pending(String name, String app) {
    return new PodBuilder(ClusterFixtures.pod("default", name, "unused", Map.of("app", app)))
        .editMetadata().withUid(null).endMetadata()
        .withNewStatus().withPhase("Pending").endStatus().build();
  }

  /** What kubelet does once ADD returned: report the pod running with its IP. */
  private static void reportRunning(String name, String ip) {
    Pod p = client.pods().inNamespace("default").withName(name).get();
    client.pods().resource(new PodBuilder(p).editStatus().withPhase("Running").withPodIP(ip)
        .addNewPodIP().withIp(ip).endPodIP().endStatus().build()).update();
  }

  private static Optional<Ipcache4Value> ipcache(Agent agent, String ip) {
    return agent.datapath().map(Datapath.IPCACHE4)
        .lookup(Ipcache4KeyCodec.INSTANCE.encode(Ipcache4Key.host(Ipv4.parse(ip))))
        .map(Ipcache4ValueCodec.INSTANCE::decode);
  }

  private static java.util.List<String> scrape(int port) throws Exception {
    java.net.http.HttpResponse<String> r = java.net.http.HttpClient.newHttpClient().send(
        java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + port
            + "/metrics")).build(), java.net.http.HttpResponse.BodyHandlers.ofString());
    return r.body().lines().filter(l -> !l.startsWith("#")).toList();
  }

  @Test
  void podsAddedThroughTheAgentReachAClusterIpAndDelRemovesThem(NetnsLab lab) throws Exception {
    AgentHarness harness = new AgentHarness(lab, client, tmp);
    NetnsLab.Netns node = harness.node;
    client.nodes().resource(ClusterFixtures.node()).create(); // spec.podCIDR 198.18.0.0/24
    client.namespaces().resource(ClusterFixtures.namespace("default")).create();
    // As with kubelet, the pods exist (without an IP) before their sandboxes are added.
    client.pods().resource(pending("pod-a", "client")).create();
    client.pods().resource(pending("pod-b", "web")).create();
    int metricsPort = AgentHarness.freePort();
    Agent agent = harness.start(Map.of("prometheus-serve-addr", "127.0.0.1:" + metricsPort));
    NetnsLab.Netns podA = lab.netns("pod-a");
    NetnsLab.Netns podB = lab.netns("pod-b");

    // harness.start waited for the pod CIDR, which comes from the Node with the first snapshot.
    CniPlugin.Run addA = harness.cni("ADD", "ctr-a", podA, "pod-a");
    CniPlugin.Run addB = harness.cni("ADD", "ctr-b", podB, "pod-b");

    assertThat(addA.exitCode()).as(addA.stdout() + addA.stderr()).isZero();
    assertThat(addB.exitCode()).as(addB.stdout() + addB.stderr()).isZero();
    String ipA = JSON.readTree(addA.stdout()).at("/ips/0/address").asText().replace("/32", "");
    String ipB = JSON.readTree(addB.stdout()).at("/ips/0/address").asText().replace("/32", "");
    assertThat(ipA).isEqualTo("198.18.0.2");
    assertThat(ipB).isEqualTo("198.18.0.3");
    // ADD returned only after the reconciler wrote the entries, before kubelet reports the IP.
    int idA = agent.endpoints().orElseThrow().endpoints().stream()
        .filter(e -> e.pod().name().equals("pod-a")).findFirst().orElseThrow().id();
    assertThat(ipcache(agent, ipA)).get().extracting(Ipcache4Value::endpointId).isEqualTo(idA);
    assertThat(ipcache(agent, ipA).orElseThrow().identity()).isGreaterThan(Ipcache4Value.IDENTITY_UNKNOWN);

    reportRunning("pod-a", ipA);
    reportRunning("pod-b", ipB);
    podB.spawn("socat", "TCP-LISTEN:8080,fork,reuseaddr",
        "SYSTEM:echo pod-b $SOCAT_PEERADDR; exec cat");
    client.services().resource(ClusterFixtures.clusterIp("default", "web", "198.19.0.10", 80,
        8080)).create();
    client.discovery().v1().endpointSlices().resource(ClusterFixtures.slice("default", "web",
        8080, ipB)).create();

    PodNetwork.Pod clientPod = new PodNetwork.Pod("pod-a", ipA, podA);
    await().atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(200)).ignoreExceptions()
        .untilAsserted(() -> assertThat(clientPod.greeting("198.19.0.10", 80))
            .isEqualTo("pod-b " + ipA));
    try (Socket s = clientPod.connect("198.19.0.10", 80)) {
      assertThat(PodNetwork.readLine(s)).startsWith("pod-b");
      assertThat(PodNetwork.echo(s, "hello through the ClusterIP"))
          .isEqualTo("hello through the ClusterIP");
    }
    assertThat(scrape(metricsPort)).as("the datapath's counters at /metrics").anySatisfy(line ->
        assertThat(line).startsWith("anetd_datapath_packets_total{")
            .contains("reason=\"forwarded\"", "direction=\"egress\"")
            .doesNotEndWith(" 0.0"));

    CniPlugin.Run del = harness.cni("DEL", "ctr-a", podA, "pod-a");
    assertThat(del.exitCode()).as(del.stdout()).isZero();
    // DEL asked for a pass: the address is no longer a local endpoint...
    await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(50))
        .until(() -> ipcache(agent, ipA).orElseThrow().endpointId() == 0);
    client.pods().inNamespace("default").withName("pod-a").delete();
    // ...and once the pod is gone from the API, the /32 goes (the lookup falls back to world).
    await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(100))
        .until(() -> ipcache(agent, ipA).orElseThrow().identity() == Ipcache4Value.IDENTITY_WORLD);
    assertThat(agent.endpoints().orElseThrow().endpoints()).extracting(e -> e.pod().name())
        .containsExactly("pod-b");
    assertThat(node.ip("link", "show")).doesNotContain(
        org.anetd.agent.endpoint.HostVethName.of(new org.anetd.agent.endpoint.AttachmentKey("ctr-a", "eth0")));
  }

}
