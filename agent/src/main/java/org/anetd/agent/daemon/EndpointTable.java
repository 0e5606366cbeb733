package org.anetd.agent.daemon;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import org.anetd.agent.datapath.EndpointPolicy;
import org.anetd.agent.datapath.Ipcache4Key;
import org.anetd.agent.datapath.Ipcache4Value;
import org.anetd.agent.datapath.Ipv4;
import org.anetd.agent.datapath.Lxc4Info;
import org.anetd.agent.datapath.PolicyEntry;
import org.anetd.agent.datapath.PolicyKey;
import org.anetd.agent.k8s.ObjectRef;
import org.anetd.agent.policy.DesiredPolicy;
import org.anetd.agent.policy.Identities;

/**
 * What `anetd endpoint list` and `anetd policy get` print: the endpoints of this node with their
 * identity and isolation, and the allow entries in effect for each (pure rendering of the last
 * reconcile pass).
 */
final class EndpointTable {
  private EndpointTable() {}

  /**
   * The endpoint list. DELIVERY says how packets from other pods of the node reach the endpoint:
   * {@code local ifN} straight to its veth (its anetd_lxc entry names host veth ifindex N),
   * {@code stack} through the node's IP stack (no entry: not attached yet, or no usable MACs).
   */
  static String endpoints(DesiredPolicy policy, Map<Ipcache4Key, Ipcache4Value> ipcache,
      Map<Ipv4, Lxc4Info> localDelivery) {
    StringBuilder out = new StringBuilder(String.format("%-8s %-28s %-16s %-9s %-8s %-8s %-7s %s%n",
        "ENDPOINT", "POD", "IP", "IDENTITY", "INGRESS", "EGRESS", "ENTRIES", "DELIVERY"));
    policy.endpoints().forEach((id, ep) -> {
      Optional<Ipv4> ip = ipcache.entrySet().stream()
          .filter(e -> e.getValue().endpointId() == id && e.getKey().prefixLength() == 32)
          .map(e -> e.getKey().address()).findFirst();
      long entries = policy.entries().keySet().stream().filter(k -> k.endpointId() == id).count();
      String delivery = ip.map(localDelivery::get).filter(l -> l.endpointId() == id)
          .map(l -> "local if" + l.ifindex()).orElse(ip.isPresent() ? "stack" : "-");
      out.append(String.format("%-8d %-28s %-16s %-9d %-8s %-8s %-7d %s%n", id,
          pod(policy.identities(), ep.identity()), ip.map(Ipv4::toString).orElse("-"),
          ep.identity(),
          (ep.flags() & EndpointPolicy.F_INGRESS_ISOLATED) != 0 ? "enforced" : "allow-all",
          (ep.flags() & EndpointPolicy.F_EGRESS_ISOLATED) != 0 ? "enforced" : "allow-all",
          entries, delivery));
    });
    return out.toString();
  }

  static String policy(DesiredPolicy policy) {
    StringBuilder out = new StringBuilder();
    policy.endpoints().forEach((id, ep) -> {
      out.append("endpoint ").append(id).append(" (identity ").append(ep.identity()).append(")\n");
      List<String> lines = new ArrayList<>();
      policy.entries().forEach((key, entry) -> {
        if (key.endpointId() == id) {
          lines.add(String.format("  %-7s %-44s %-14s %s", key.direction() == 0 ? "ingress"
              : "egress", peer(policy.identities(), key.identity()), ports(key),
              policies(policy, entry)));
        }
      });
      if (lines.isEmpty()) {
        lines.add("  (no entries: " + ((ep.flags() & 3) == 0 ? "not isolated, all allowed"
            : "isolated, all denied") + ")");
      }
      lines.forEach(l -> out.append(l).append('\n'));
    });
    return out.toString();
  }

  private static String pod(Identities ids, long identity) {
    var id = ids.byId().get(identity);
    return id == null ? "-" : id.namespace() + " " + id.podLabels();
  }

  private static String peer(Identities ids, long identity) {
    if (identity == 0) {
      return "any peer";
    }
    var id = ids.byId().get(identity);
    return id == null ? "identity " + identity : identity + " " + id;
  }

  private static String ports(PolicyKey key) {
    if (key.prefixLength() == PolicyKey.PREFIX_BASE) {
      return "all ports";
    }
    int bits = key.prefixLength() - PolicyKey.PREFIX_BASE - 8;
    if (bits <= 0) {
      return "all/" + key.protocol();
    }
    int last = key.port() | ((1 << (16 - bits)) - 1);
    return (last == key.port() ? "" + key.port() : key.port() + "-" + last) + "/" + key.protocol();
  }

  private static String policies(DesiredPolicy policy, PolicyEntry entry) {
    List<ObjectRef> refs = policy.policySets().getOrDefault(entry.policySetId(), List.of());
    return refs.isEmpty() ? "(node)" : refs.stream().map(r -> r.namespace() + "/" + r.name())
        .collect(Collectors.joining(", "));
  }
}
