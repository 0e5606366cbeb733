package org.anetd.agent.daemon;

import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.anetd.agent.endpoint.CniPlugin;
import org.anetd.agent.testing.NetnsLab;
import org.anetd.agent.testing.PodNetwork;

/**
 * An agent in this JVM against a (mock) API server, on a node network namespace with an uplink,
 * whose pods are created like kubelet does: Pending in the API, CNI ADD through the real plugin
 * binary, then reported Running with the address the ADD returned.
 */
final class AgentHarness {
  private static final ObjectMapper JSON = new ObjectMapper();

  final KubernetesClient client;
  final NetnsLab lab;
  final NetnsLab.Netns node;
  /** Outside the node, behind its uplink: 198.18.255.254, the node's default gateway. */
  final NetnsLab.Netns upstream;
  final Path dir;
  final int healthPort;
  Agent agent;
  /** The agent's bpf-root, the same for every start: a restarted agent finds what it pinned. */
  private Path bpfRoot;

  AgentHarness(NetnsLab lab, KubernetesClient client, Path dir) {
    this.lab = lab;
    this.client = client;
    this.dir = dir;
    this.healthPort = freePort();
    node = lab.netns("node");
    node.run("sysctl", "-qw", "net.ipv4.ip_forward=1");
    upstream = lab.netns("upstream");
    lab.veth(node, "uplink", upstream, "eth0");
    node.ip("addr", "add", ClusterFixtures.NODE_IP + "/24", "dev", "uplink");
    upstream.ip("addr", "add", "198.18.255.254/24", "dev", "eth0");
    node.ip("route", "add", "default", "via", "198.18.255.254", "dev", "uplink");
  }

  /**
   * Starts the agent with {@code config} keys on top of the test basics (bpf root, ports); again
   * after {@link Agent#close}, it is a restart on the same node with the keys given now.
   */
  Agent start(Map<String, String> config) {
    try {
      Path configDir = Files.createDirectories(dir.resolve("config"));
      if (bpfRoot == null) {
        bpfRoot = lab.bpffsDir("agent");
      }
      Files.writeString(configDir.resolve("bpf-root"), bpfRoot.toString());
      Files.writeString(configDir.resolve("health-serve-addr"), "127.0.0.1:" + healthPort);
      Files.writeString(configDir.resolve("prometheus-serve-addr"), "");
      for (Map.Entry<String, String> e : config.entrySet()) {
        Files.writeString(configDir.resolve(e.getKey()), e.getValue());
      }
      AgentOptions options = new AgentOptions(ClusterFixtures.NODE, Optional.empty(),
          Optional.of(configDir), dir.resolve("state"), Duration.ofSeconds(60))
          .withCni(dir.resolve("cni.sock"), Optional.empty(), Optional.of(node.path()));
      agent = Agent.start(options, client);
      lab.onClose(agent::close);
      await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(100))
          .until(() -> agent.endpoints().isPresent()); // the pod CIDR came from the Node
      return agent;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A pod the way kubelet makes one: Pending in the API, CNI ADD, then Running with its IP. */
  PodNetwork.Pod pod(String name, Map<String, String> labels) {
    client.pods().resource(new PodBuilder(ClusterFixtures.pod("default", name, "unused", labels))
        .editMetadata().withUid(null).endMetadata()
        .withNewStatus().withPhase("Pending").endStatus().build()).create();
    NetnsLab.Netns ns = lab.netns(name);
    CniPlugin.Run add = cni("ADD", "ctr-" + name, ns, name);
    if (add.exitCode() != 0) {
      throw new IllegalStateException("CNI ADD of " + name + ": " + add.stdout() + add.stderr());
    }
    String ip;
    try {
      ip = JSON.readTree(add.stdout()).at("/ips/0/address").asText().replace("/32", "");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    Pod p = client.pods().inNamespace("default").withName(name).get();
    client.pods().resource(new PodBuilder(p).editStatus().withPhase("Running").withPodIP(ip)
        .addNewPodIP().withIp(ip).endPodIP().endStatus().build()).update();
    return new PodNetwork.Pod(name, ip, ns);
  }

  CniPlugin.Run cni(String command, String containerId, NetnsLab.Netns pod, String name) {
    return CniPlugin.run(Map.of("CNI_COMMAND", command, "CNI_CONTAINERID", containerId,
        "CNI_NETNS", pod.path().toString(), "CNI_IFNAME", "eth0",
        "CNI_ARGS", "IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=" + name,
        "CNI_PATH", CniPlugin.binary().getParent().toString()),
        CniPlugin.config(dir.resolve("cni.sock")));
  }

  static int freePort() {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
