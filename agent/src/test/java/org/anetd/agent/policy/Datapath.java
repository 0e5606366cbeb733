package org.anetd.agent.policy;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Pod;
import java.util.Map;
import java.util.TreeMap;
import org.anetd.agent.datapath.Ipcache4Key;
import org.anetd.agent.datapath.Ipcache4Value;
import org.anetd.agent.datapath.Ipv4;
import org.anetd.agent.datapath.Protocol;
import org.anetd.agent.k8s.ClusterState;

/**
 * Every node of a cluster compiled as its agent would, with the datapath verdict for a packet:
 * egress checked by the source's node, ingress by the destination's (see {@link PolicyLookup}).
 */
final class Datapath {
  final Map<String, DesiredPolicy> policies = new TreeMap<>();
  final Map<String, Map<Ipcache4Key, Ipcache4Value>> ipcaches = new TreeMap<>();
  private final Map<String, PolicyLookup> lookups = new TreeMap<>();
  private final ClusterState state;

  private Datapath(ClusterState state) {
    this.state = state;
  }

  static Datapath compile(ClusterState cluster, Map<String, IdentityAllocation> previous) {
    Datapath d = new Datapath(cluster);
    for (Node n : cluster.nodes()) {
      String name = n.getMetadata().getName();
      ClusterState s = new ClusterState(cluster.version(), name, cluster.services(),
          cluster.endpointSlices(), cluster.pods(), cluster.namespaces(),
          cluster.networkPolicies(), cluster.nodes());
      Map<String, Integer> eps = Fixtures.endpoints(cluster.pods(), name);
      DesiredPolicy p = PolicyCompiler.compile(s, eps,
          previous.getOrDefault(name, IdentityAllocation.EMPTY));
      Map<Ipcache4Key, Ipcache4Value> ipc = IpcacheCompiler.compile(s, p.identities(), eps);
      d.policies.put(name, p);
      d.ipcaches.put(name, ipc);
      d.lookups.put(name, PolicyLookup.of(p, ipc));
    }
    return d;
  }

  static Datapath compile(ClusterState cluster) {
    return compile(cluster, Map.of());
  }

  Map<String, IdentityAllocation> allocations() {
    Map<String, IdentityAllocation> m = new TreeMap<>();
    policies.forEach((n, p) -> m.put(n, p.identities().allocation()));
    return m;
  }

  /** Pod to pod; a pod reaching itself stays on its loopback and is never checked. */
  boolean allows(Pod from, Pod to, Protocol proto, int port) {
    if (from == to) {
      return true;
    }
    Ipv4 src = Cluster.primaryIpv4(from).orElseThrow();
    Ipv4 dst = Cluster.primaryIpv4(to).orElseThrow();
    return allows(Cluster.nodeName(from), src, Cluster.nodeName(to), dst, proto, port);
  }

  /** Addresses; a null node means the address is outside the cluster (no check there). */
  boolean allows(String srcNode, Ipv4 src, String dstNode, Ipv4 dst, Protocol proto, int port) {
    boolean egress = srcNode == null || lookups.get(srcNode).egress(src, dst, proto, port).passes();
    boolean ingress = dstNode == null
        || lookups.get(dstNode).ingress(src, dst, proto, port).passes();
    return egress && ingress;
  }

  DesiredPolicy on(String node) {
    return policies.get(node);
  }

  ClusterState state() {
    return state;
  }
}
