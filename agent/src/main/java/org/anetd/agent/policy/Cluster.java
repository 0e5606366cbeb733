package org.anetd.agent.policy;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeAddress;
import io.fabric8.kubernetes.api.model.Pod;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;
import org.anetd.agent.datapath.Ipv4;
import org.anetd.agent.datapath.Protocol;
import org.anetd.agent.k8s.ClusterState;
import org.anetd.agent.k8s.Pods;

/** Read-only helpers over fabric8 objects shared by the compilers and the trace. */
final class Cluster {
  /** Always present on namespaces since Kubernetes 1.21; synthesized when a snapshot lacks it. */
  static final String METADATA_NAME = "kubernetes.io/metadata.name";

  private Cluster() {}

  static String key(Pod p) {
    return p.getMetadata().getNamespace() + "/" + p.getMetadata().getName();
  }

  static String namespace(Pod p) {
    return p.getMetadata().getNamespace();
  }

  static Map<String, String> labels(Pod p) {
    Map<String, String> l = p.getMetadata().getLabels();
    return l == null ? Map.of() : l;
  }

  static boolean hostNetwork(Pod p) {
    return p.getSpec() != null && Boolean.TRUE.equals(p.getSpec().getHostNetwork());
  }

  static String nodeName(Pod p) {
    return p.getSpec() == null ? null : p.getSpec().getNodeName();
  }

  /** Pods that own their IP: not hostNetwork, not finished (a finished pod's IP is reused). */
  static boolean ownsIp(Pod p) {
    String phase = p.getStatus() == null ? null : p.getStatus().getPhase();
    return !hostNetwork(p) && !"Succeeded".equals(phase) && !"Failed".equals(phase);
  }

  /** Pods that own an IPv4 address, sorted by namespace/name. */
  static List<Pod> podsWithIp(ClusterState state) {
    return state.pods().stream().filter(Cluster::ownsIp).filter(p -> !Pods.ipv4s(p).isEmpty())
        .sorted(Comparator.comparing(Cluster::key)).toList();
  }


  static Optional<Ipv4> primaryIpv4(Pod p) {
    return Pods.ipv4s(p).stream().findFirst();
  }

  /** Labels of a namespace, with kubernetes.io/metadata.name filled in. */
  static Map<String, String> namespaceLabels(ClusterState state, String namespace) {
    TreeMap<String, String> l = new TreeMap<>();
    state.namespaces().stream().filter(n -> namespace.equals(n.getMetadata().getName()))
        .map(Namespace::getMetadata).map(m -> m.getLabels()).filter(Objects::nonNull)
        .findFirst().ifPresent(l::putAll);
    l.putIfAbsent(METADATA_NAME, namespace);
    return l;
  }

  /** The port numbers a pod's containers declare under {@code name} for {@code protocol}. */
  static TreeSet<Integer> namedPort(Pod p, String name, Protocol protocol) {
    TreeSet<Integer> out = new TreeSet<>();
    if (p.getSpec() == null || p.getSpec().getContainers() == null) {
      return out;
    }
    for (Container c : p.getSpec().getContainers()) {
      for (ContainerPort cp : c.getPorts() == null ? List.<ContainerPort>of() : c.getPorts()) {
        if (name.equals(cp.getName()) && cp.getContainerPort() != null
            && protocol.name().equals(cp.getProtocol() == null ? "TCP" : cp.getProtocol())) {
          out.add(cp.getContainerPort());
        }
      }
    }
    return out;
  }

  /** The local endpoint id of a pod: keyed by UID, else by namespace/name. */
  static Optional<Integer> endpointId(Map<String, Integer> localEndpoints, Pod p) {
    String uid = p.getMetadata().getUid();
    Integer id = uid == null ? null : localEndpoints.get(uid);
    return Optional.ofNullable(id != null ? id : localEndpoints.get(key(p)));
  }

  static Optional<Node> node(ClusterState state, String name) {
    return state.nodes().stream().filter(n -> n.getMetadata().getName().equals(name)).findFirst();
  }

  /** A node's IPv4 addresses of the given type (InternalIP, ExternalIP), in status order. */
  static List<Ipv4> nodeIpv4s(Node n, String type) {
    if (n.getStatus() == null || n.getStatus().getAddresses() == null) {
      return List.of();
    }
    return n.getStatus().getAddresses().stream().filter(a -> type.equals(a.getType()))
        .map(NodeAddress::getAddress).filter(Objects::nonNull).filter(Ipv4::isValid)
        .map(Ipv4::parse).distinct().toList();
  }

  static Ipv4 internalIp(ClusterState state, String nodeName) {
    return nodeName == null ? Ipv4.ANY : node(state, nodeName)
        .flatMap(n -> nodeIpv4s(n, "InternalIP").stream().findFirst()).orElse(Ipv4.ANY);
  }
}
