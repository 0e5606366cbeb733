package org.anetd.agent.policy;

import io.fabric8.kubernetes.api.model.Node;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.anetd.agent.datapath.Ipcache4Key;
import org.anetd.agent.datapath.Ipcache4Value;
import org.anetd.agent.datapath.Ipv4;
import org.anetd.agent.k8s.ClusterState;
import org.anetd.agent.k8s.Pods;

/**
 * ClusterState + identities -> the desired ipcache contents (pure). Later layers override earlier
 * ones on the same prefix: policy CIDR regions (0.0.0.0/0 is world), then pod IPs, then node
 * addresses, since a node address is never a pod's and a pod IP always beats a policy /32.
 */
public final class IpcacheCompiler {
  /** Ipcache keys sorted by address, then shorter prefix first: stable output, easy diffs. */
  public static final Comparator<Ipcache4Key> ORDER =
      Comparator.comparing(Ipcache4Key::address).thenComparingInt(Ipcache4Key::prefixLength);

  private IpcacheCompiler() {}

  /**
   * @param localEndpoints pod UID (or namespace/name) -> endpoint id, for pods on this node
   */
  public static SortedMap<Ipcache4Key, Ipcache4Value> compile(ClusterState state,
      Identities identities, Map<String, Integer> localEndpoints) {
    TreeMap<Ipcache4Key, Ipcache4Value> out = new TreeMap<>(ORDER);
    identities.cidrIdentities().forEach((cidr, id) ->
        out.put(cidr.toKey(), new Ipcache4Value(id, Ipv4.ANY, 0)));

    TreeMap<Ipcache4Key, Claim> pods = new TreeMap<>(ORDER);
    for (var pod : Cluster.podsWithIp(state)) {
      long id = identities.of(pod).orElseThrow();
      String node = Cluster.nodeName(pod);
      int ep = state.nodeName().equals(node)
          ? Cluster.endpointId(localEndpoints, pod).map(IpcacheCompiler::checkEndpointId).orElse(0)
          : 0;
      Claim claim = new Claim(pod, new Ipcache4Value(id, Cluster.internalIp(state, node), ep));
      Pods.ipv4s(pod).forEach(ip -> pods.merge(Ipcache4Key.host(ip), claim,
          (a, b) -> CLAIM_ORDER.compare(a, b) <= 0 ? a : b));
    }
    pods.forEach((key, claim) -> out.put(key, claim.value()));

    for (Node n : state.nodes().stream()
        .sorted(Comparator.comparing(n -> n.getMetadata().getName())).toList()) {
      boolean self = n.getMetadata().getName().equals(state.nodeName());
      long id = self ? Ipcache4Value.IDENTITY_HOST : Ipcache4Value.IDENTITY_REMOTE_NODE;
      Ipv4 internal = Cluster.nodeIpv4s(n, "InternalIP").stream().findFirst().orElse(Ipv4.ANY);
      Stream.of(Cluster.nodeIpv4s(n, "InternalIP"), Cluster.nodeIpv4s(n, "ExternalIP"))
          .flatMap(List::stream)
          .forEach(ip -> out.put(Ipcache4Key.host(ip), new Ipcache4Value(id, internal, 0)));
    }
    return Collections.unmodifiableSortedMap(out);
  }

  /** A pod's entry for its address. */
  private record Claim(io.fabric8.kubernetes.api.model.Pod pod, Ipcache4Value value) {}

  /**
   * Two pods with one IP: a pod being deleted whose status still shows the address it had, and the
   * new pod IPAM gave the address to (or a race of the API's view). The address goes to the pod a
   * local endpoint carries it for, then to a pod that is not being deleted, then to the newer
   * pod, then by namespace/name (stable). The wrong choice would give the new pod the old pod's
   * identity (its peers' policy) and its endpoint id to nobody.
   */
  private static final Comparator<Claim> CLAIM_ORDER =
      Comparator.comparing((Claim c) -> c.value().endpointId() == 0)
          .thenComparing(c -> c.pod().getMetadata().getDeletionTimestamp() != null)
          .thenComparing(c -> createdAt(c.pod()), Comparator.reverseOrder())
          .thenComparing(c -> Cluster.key(c.pod()));

  /** RFC 3339 creation time (sorts chronologically as text); unknown sorts as oldest. */
  private static String createdAt(io.fabric8.kubernetes.api.model.Pod pod) {
    String t = pod.getMetadata().getCreationTimestamp();
    return t == null ? "" : t;
  }

  /** ipcache4_value.endpoint_id is a u16; the endpoint allocator must stay inside it. */
  private static int checkEndpointId(int id) {
    if (id < 1 || id > 0xffff) {
      throw new IllegalArgumentException("endpoint id " + id + " not in 1..65535");
    }
    return id;
  }
}
