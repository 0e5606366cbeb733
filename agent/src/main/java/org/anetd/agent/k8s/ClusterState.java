package org.anetd.agent.k8s;

import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import java.util.List;

/**
 * One immutable, versioned snapshot of everything the compilers read. {@code version} grows with
 * every snapshot and tags the log lines of the pass that compiles it. {@code nodeName} is the node
 * this agent runs on (for ETP/ITP Local and local endpoints). Lists are unmodifiable copies
 * ({@link ClusterStateSource} sorts them by namespace and name); the fabric8 objects in them are
 * shared with the informer caches and must be treated as read-only.
 */
public record ClusterState(
    long version,
    String nodeName,
    List<Service> services,
    List<EndpointSlice> endpointSlices,
    List<Pod> pods,
    List<Namespace> namespaces,
    List<NetworkPolicy> networkPolicies,
    List<Node> nodes) {

  public ClusterState {
    services = List.copyOf(services);
    endpointSlices = List.copyOf(endpointSlices);
    pods = List.copyOf(pods);
    namespaces = List.copyOf(namespaces);
    networkPolicies = List.copyOf(networkPolicies);
    nodes = List.copyOf(nodes);
  }

  /** Pods scheduled on this agent's node: the ones whose endpoints it programs. */
  public List<Pod> localPods() {
    return podsOnNode(nodeName);
  }

  /**
   * Pods whose {@code spec.nodeName} is {@code node}, in snapshot order. Filtered here rather than
   * with a field selector because the policy compiler needs every pod anyway.
   */
  public List<Pod> podsOnNode(String node) {
    return pods.stream()
        .filter(p -> p.getSpec() != null && node.equals(p.getSpec().getNodeName()))
        .toList();
  }

  public static ClusterState empty(String nodeName) {
    return new ClusterState(0, nodeName, List.of(), List.of(), List.of(), List.of(), List.of(),
        List.of());
  }
}
