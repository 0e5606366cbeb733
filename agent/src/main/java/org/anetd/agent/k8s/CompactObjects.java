package org.anetd.agent.k8s;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeAddress;
import io.fabric8.kubernetes.api.model.NodeStatus;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodIP;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.PodStatus;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.ServiceSpec;
import io.fabric8.kubernetes.api.model.discovery.v1.Endpoint;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointConditions;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointPort;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Drops, as objects enter the informer caches, what no part of the agent reads: managed fields,
 * the last-applied annotation, pod specs beyond node, host network and container ports, pod and
 * node status beyond addresses and phase, EndpointSlice targetRefs, hints and zones. Strings that
 * repeat across thousands of objects (node names, namespaces, protocols) are shared. A cache of
 * 10,000 EndpointSlices then holds addresses and conditions, not copies of the API's JSON.
 *
 * <p>Objects are compacted in place: they are freshly decoded and owned by the informer. What is
 * kept is listed here so that a reader of a new field knows to keep it: metadata (name, namespace,
 * uid, resourceVersion, creationTimestamp, labels, annotations but last-applied, ownerReferences),
 * Pod spec.nodeName, spec.hostNetwork, spec.containers[].name/ports, status.phase, podIP, podIPs,
 * hostIP; EndpointSlice addressType, ports, endpoints[].addresses/conditions/nodeName; Node
 * spec, status.addresses; Services (status.loadBalancer.ingress[] with its ipMode included),
 * Namespaces and NetworkPolicies whole.
 */
public final class CompactObjects {
  static final String LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration";

  private CompactObjects() {}

  /** Compacts {@code o} in place by its kind and returns it. */
  public static <T extends HasMetadata> T compact(T o) {
    metadata(o.getMetadata());
    if (o instanceof EndpointSlice s) {
      endpointSlice(s);
    } else if (o instanceof Pod p) {
      pod(p);
    } else if (o instanceof Node n) {
      node(n);
    } else if (o instanceof Service s) {
      service(s);
    }
    return o;
  }

  /**
   * Services are kept whole but for the unknown-field maps every decoded model object carries
   * (empty in practice, yet an object each).
   */
  private static void service(Service s) {
    s.setAdditionalProperties(Map.of());
    if (s.getSpec() != null) {
      ServiceSpec spec = s.getSpec();
      spec.setType(shared(spec.getType()));
      spec.setAdditionalProperties(Map.of());
      spec.setExternalIPs(orShared(spec.getExternalIPs()));
      spec.setIpFamilies(orShared(spec.getIpFamilies()));
      spec.setLoadBalancerSourceRanges(orShared(spec.getLoadBalancerSourceRanges()));
      if (spec.getSelector() != null && spec.getSelector().isEmpty()) {
        spec.setSelector(Map.of());
      }
      if (s.getSpec().getPorts() != null) {
        for (ServicePort port : s.getSpec().getPorts()) {
          port.setProtocol(shared(port.getProtocol()));
          port.setAdditionalProperties(Map.of());
        }
      }
    }
  }

  private static void metadata(ObjectMeta m) {
    if (m == null) {
      return;
    }
    m.setManagedFields(List.of());
    m.setAdditionalProperties(Map.of());
    m.setFinalizers(orShared(m.getFinalizers()));
    m.setOwnerReferences(orShared(m.getOwnerReferences()));
    if (m.getLabels() != null && m.getLabels().isEmpty()) {
      m.setLabels(Map.of());
    }
    m.setNamespace(shared(m.getNamespace()));
    Map<String, String> annotations = m.getAnnotations();
    if (annotations != null && annotations.containsKey(LAST_APPLIED)) {
      Map<String, String> kept = new HashMap<>(annotations);
      kept.remove(LAST_APPLIED);
      m.setAnnotations(kept);
    }
  }

  private static void endpointSlice(EndpointSlice s) {
    s.setAddressType(shared(s.getAddressType()));
    s.setAdditionalProperties(Map.of());
    if (s.getPorts() != null) {
      for (EndpointPort port : s.getPorts()) {
        port.setProtocol(shared(port.getProtocol()));
        port.setName(shared(port.getName()));
        port.setAppProtocol(null);
        port.setAdditionalProperties(Map.of());
      }
    }
    if (s.getEndpoints() != null) {
      for (Endpoint e : s.getEndpoints()) {
        e.setTargetRef(null);
        e.setHints(null);
        e.setZone(null);
        e.setDeprecatedTopology(null);
        e.setHostname(null);
        e.setNodeName(shared(e.getNodeName()));
        if (e.getAddresses() != null) {
          e.setAddresses(List.copyOf(e.getAddresses())); // a decoder's list has room for ten
        }
        e.setAdditionalProperties(Map.of());
        e.setConditions(sharedConditions(e.getConditions()));
      }
    }
  }

  private static void pod(Pod p) {
    PodSpec spec = p.getSpec();
    if (spec != null) {
      PodSpec kept = new PodSpec();
      kept.setNodeName(shared(spec.getNodeName()));
      kept.setHostNetwork(spec.getHostNetwork());
      kept.setContainers(containerPorts(spec.getContainers()));
      p.setSpec(kept);
    }
    PodStatus status = p.getStatus();
    if (status != null) {
      PodStatus kept = new PodStatus();
      kept.setPhase(shared(status.getPhase()));
      kept.setPodIP(status.getPodIP());
      kept.setPodIPs(status.getPodIPs() == null ? null
          : status.getPodIPs().stream().map(ip -> new PodIP(ip.getIp())).toList());
      kept.setHostIP(status.getHostIP());
      p.setStatus(kept);
    }
  }

  /** Containers by name with their ports: what named targetPorts resolve against. */
  private static List<Container> containerPorts(List<Container> containers) {
    if (containers == null) {
      return null;
    }
    List<Container> kept = new ArrayList<>(containers.size());
    for (Container c : containers) {
      Container k = new Container();
      k.setName(c.getName());
      if (c.getPorts() != null) {
        List<ContainerPort> ports = new ArrayList<>(c.getPorts().size());
        for (ContainerPort port : c.getPorts()) {
          ContainerPort cp = new ContainerPort();
          cp.setName(port.getName());
          cp.setContainerPort(port.getContainerPort());
          cp.setProtocol(shared(port.getProtocol()));
          ports.add(cp);
        }
        k.setPorts(ports);
      }
      kept.add(k);
    }
    return kept;
  }

  private static void node(Node n) {
    NodeStatus status = n.getStatus();
    if (status != null) {
      NodeStatus kept = new NodeStatus();
      List<NodeAddress> addresses = status.getAddresses();
      kept.setAddresses(addresses);
      n.setStatus(kept);
    }
  }

  /**
   * Endpoint conditions are three optional booleans: 27 possible values, one shared object each
   * instead of one per endpoint (nothing modifies cached objects).
   */
  private static final Map<List<Boolean>, EndpointConditions> CONDITIONS =
      new ConcurrentHashMap<>();

  private static EndpointConditions sharedConditions(EndpointConditions c) {
    if (c == null) {
      return null;
    }
    List<Boolean> value = Arrays.asList(c.getReady(), c.getServing(), c.getTerminating());
    return CONDITIONS.computeIfAbsent(value, v -> {
      EndpointConditions shared = new EndpointConditions(v.get(0), v.get(1), v.get(2));
      shared.setAdditionalProperties(Map.of());
      return shared;
    });
  }

  /** Empty lists as the one shared empty list (a decoder allocates one per absent field). */
  private static <T> List<T> orShared(List<T> list) {
    return list != null && list.isEmpty() ? List.of() : list;
  }

  /** One instance per distinct value (node names, namespaces, protocols repeat a lot). */
  private static String shared(String s) {
    return s == null ? null : s.intern();
  }
}
