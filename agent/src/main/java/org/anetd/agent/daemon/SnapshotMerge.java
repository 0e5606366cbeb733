package org.anetd.agent.daemon;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodIP;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.anetd.agent.datapath.Ipv4;
import org.anetd.agent.k8s.ClusterState;

/**
 * Fills in what the API server does not know yet (pure). Kubelet reports a pod's IP only after
 * CNI ADD returned, but the pod's ipcache and policy entries must be written before ADD returns:
 * so for pods of this node whose status has no IP yet, the address the CNI gave them is merged
 * into the snapshot the compilers see. A status IP, once reported, always wins.
 */
public final class SnapshotMerge {
  private SnapshotMerge() {}

  /**
   * @param addresses pod UID or namespace/name -> the address its endpoint was given
   * @return {@code state} itself when nothing needs filling in, else a copy with those pods
   *     completed (the informers' objects are never modified)
   */
  public static ClusterState withEndpointAddresses(ClusterState state, Map<String, Ipv4> addresses) {
    if (addresses.isEmpty()) {
      return state;
    }
    List<Pod> pods = new ArrayList<>(state.pods().size());
    boolean changed = false;
    for (Pod p : state.pods()) {
      Ipv4 address = needsAddress(state, p) ? addressOf(addresses, p) : null;
      if (address == null) {
        pods.add(p);
        continue;
      }
      pods.add(new PodBuilder(p).editOrNewStatus().withPodIP(address.toString())
          .withPodIPs(new PodIP(address.toString())).endStatus().build());
      changed = true;
    }
    return changed ? new ClusterState(state.version(), state.nodeName(), state.services(),
        state.endpointSlices(), pods, state.namespaces(), state.networkPolicies(), state.nodes())
        : state;
  }

  private static boolean needsAddress(ClusterState state, Pod p) {
    if (p.getSpec() == null || !state.nodeName().equals(p.getSpec().getNodeName())
        || Boolean.TRUE.equals(p.getSpec().getHostNetwork())) {
      return false;
    }
    if (p.getStatus() == null) {
      return true;
    }
    String phase = p.getStatus().getPhase();
    if ("Succeeded".equals(phase) || "Failed".equals(phase)) {
      return false;
    }
    boolean hasIp = p.getStatus().getPodIP() != null && !p.getStatus().getPodIP().isEmpty()
        || p.getStatus().getPodIPs() != null && p.getStatus().getPodIPs().stream()
            .map(PodIP::getIp).anyMatch(Objects::nonNull);
    return !hasIp;
  }

  private static Ipv4 addressOf(Map<String, Ipv4> addresses, Pod p) {
    String uid = p.getMetadata().getUid();
    Ipv4 byUid = uid == null ? null : addresses.get(uid);
    return byUid != null ? byUid
        : addresses.get(p.getMetadata().getNamespace() + "/" + p.getMetadata().getName());
  }
}
