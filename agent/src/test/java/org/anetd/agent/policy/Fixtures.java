package org.anetd.agent.policy;

import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.ContainerPortBuilder;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.LabelSelectorBuilder;
import io.fabric8.kubernetes.api.model.LabelSelectorRequirement;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.IPBlock;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyEgressRule;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyIngressRule;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPeer;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPort;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.anetd.agent.k8s.ClusterState;

/** Small builders so that a test case is a few lines. */
final class Fixtures {
  static final String NODE = "node-1";
  static final String NODE_IP = "192.168.0.1";
  static final String OTHER_NODE = "node-2";
  static final String OTHER_NODE_IP = "192.168.0.2";

  private Fixtures() {}

  /**
   * Pods a, b, c in namespaces x, y, z, addressed {@code prefix.(n+1).(p+1)}, each serving TCP and
   * UDP on 80 and 81 under the port names serve-80-tcp ...; {@code nodeOfPod} places pod index p.
   */
  static List<Pod> ninePods(String prefix, java.util.function.IntFunction<String> nodeOfPod) {
    List<String> namespaces = List.of("x", "y", "z");
    List<String> pods = List.of("a", "b", "c");
    List<Pod> out = new ArrayList<>();
    for (int n = 0; n < 3; n++) {
      for (int p = 0; p < 3; p++) {
        out.add(pod(namespaces.get(n), pods.get(p), prefix + "." + (n + 1) + "." + (p + 1),
            nodeOfPod.apply(p), List.of(cport("serve-80-tcp", 80, "TCP"),
                cport("serve-80-udp", 80, "UDP"), cport("serve-81-tcp", 81, "TCP"),
                cport("serve-81-udp", 81, "UDP")), "pod=" + pods.get(p)));
      }
    }
    return out;
  }

  static Map<String, String> labels(String... kv) {
    Map<String, String> m = new LinkedHashMap<>();
    for (String s : kv) {
      String[] p = s.split("=", 2);
      m.put(p[0], p[1]);
    }
    return m;
  }

  static Namespace ns(String name, String... kv) {
    return new NamespaceBuilder().withNewMetadata().withName(name).withLabels(labels(kv))
        .endMetadata().build();
  }

  static Node node(String name, String internalIp) {
    return new NodeBuilder().withNewMetadata().withName(name).endMetadata().withNewStatus()
        .addNewAddress().withType("InternalIP").withAddress(internalIp).endAddress().endStatus()
        .build();
  }

  static ContainerPort cport(String name, int port, String proto) {
    return new ContainerPortBuilder().withName(name).withContainerPort(port).withProtocol(proto)
        .build();
  }

  /** A running pod on {@link #NODE}; labels as "k=v". */
  static Pod pod(String ns, String name, String ip, String... kv) {
    return pod(ns, name, ip, NODE, List.of(), kv);
  }

  static Pod pod(String ns, String name, String ip, String node, List<ContainerPort> ports,
      String... kv) {
    return new PodBuilder().withNewMetadata().withNamespace(ns).withName(name)
        .withUid("uid-" + ns + "-" + name).withLabels(labels(kv)).endMetadata()
        .withNewSpec().withNodeName(node).addNewContainer().withName("c").withPorts(ports)
        .endContainer().endSpec()
        .withNewStatus().withPhase("Running").withPodIP(ip).addNewPodIP().withIp(ip).endPodIP()
        .endStatus().build();
  }

  static LabelSelector sel(String... kv) {
    return new LabelSelectorBuilder().withMatchLabels(labels(kv)).build();
  }

  static LabelSelector expr(String key, String op, String... values) {
    return new LabelSelectorBuilder().withMatchExpressions(
        new LabelSelectorRequirement(key, op, Arrays.asList(values))).build();
  }

  static NetworkPolicyPeer pods(LabelSelector s) {
    return new NetworkPolicyPeer(null, null, s);
  }

  static NetworkPolicyPeer namespaces(LabelSelector s) {
    return new NetworkPolicyPeer(null, s, null);
  }

  static NetworkPolicyPeer both(LabelSelector ns, LabelSelector pods) {
    return new NetworkPolicyPeer(null, ns, pods);
  }

  static NetworkPolicyPeer block(String cidr, String... except) {
    return new NetworkPolicyPeer(new IPBlock(cidr, Arrays.asList(except)), null, null);
  }

  static NetworkPolicyPort port(String proto, int port) {
    return new NetworkPolicyPort(null, new IntOrString(port), proto);
  }

  static NetworkPolicyPort range(String proto, int port, int end) {
    return new NetworkPolicyPort(end, new IntOrString(port), proto);
  }

  static NetworkPolicyPort named(String proto, String name) {
    return new NetworkPolicyPort(null, new IntOrString(name), proto);
  }

  static NetworkPolicyPort anyPort(String proto) {
    return new NetworkPolicyPort(null, null, proto);
  }

  /** A rule: peers and ports; an empty list means "absent" (all). */
  record R(List<NetworkPolicyPeer> peers, List<NetworkPolicyPort> ports) {
    NetworkPolicyIngressRule ingress() {
      return new NetworkPolicyIngressRule(peers, ports);
    }

    NetworkPolicyEgressRule egress() {
      return new NetworkPolicyEgressRule(ports, peers);
    }
  }

  static R rule(List<NetworkPolicyPeer> peers, NetworkPolicyPort... ports) {
    return new R(peers, List.of(ports));
  }

  static R anyPeer(NetworkPolicyPort... ports) {
    return new R(List.of(), List.of(ports));
  }

  /** A fluent NetworkPolicy: {@code np("x", "p").select(sel()).ingress(rule(...)).build()}. */
  static Np np(String ns, String name) {
    return new Np(ns, name);
  }

  static final class Np {
    private final String ns;
    private final String name;
    private LabelSelector select = new LabelSelector();
    private List<String> types = null;
    private final List<NetworkPolicyIngressRule> ingress = new ArrayList<>();
    private final List<NetworkPolicyEgressRule> egress = new ArrayList<>();

    Np(String ns, String name) {
      this.ns = ns;
      this.name = name;
    }

    Np select(LabelSelector s) {
      select = s;
      return this;
    }

    Np types(String... t) {
      types = List.of(t);
      return this;
    }

    Np ingress(R... rules) {
      Arrays.stream(rules).map(R::ingress).forEach(ingress::add);
      return this;
    }

    Np egress(R... rules) {
      Arrays.stream(rules).map(R::egress).forEach(egress::add);
      return this;
    }

    NetworkPolicy build() {
      return new NetworkPolicyBuilder().withNewMetadata().withNamespace(ns).withName(name)
          .endMetadata().withNewSpec().withPodSelector(select).withPolicyTypes(types)
          .withIngress(ingress).withEgress(egress).endSpec().build();
    }
  }

  static ClusterState state(List<Namespace> namespaces, List<Pod> pods,
      List<NetworkPolicy> policies) {
    return new ClusterState(1, NODE, List.of(), List.of(), pods, namespaces, policies,
        List.of(node(NODE, NODE_IP), node(OTHER_NODE, OTHER_NODE_IP)));
  }

  /** Endpoint ids 1, 2, ... for every pod on {@code node}, keyed by UID. */
  static Map<String, Integer> endpoints(List<Pod> pods, String node) {
    Map<String, Integer> m = new LinkedHashMap<>();
    pods.stream().filter(p -> node.equals(p.getSpec().getNodeName()))
        .forEach(p -> m.put(p.getMetadata().getUid(), m.size() + 1));
    return m;
  }
}
