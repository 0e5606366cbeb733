package org.anetd.agent.policy;

import io.fabric8.kubernetes.api.model.Pod;
import java.util.HashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import org.anetd.agent.datapath.Ipcache4Key;
import org.anetd.agent.datapath.Ipcache4Value;
import org.anetd.agent.k8s.ClusterState;

/**
 * The identity allocation an earlier agent left in the ipcache, read back at start (a pure
 * function). Ids are numbered in the order label sets appeared, which a restarted agent cannot
 * know; numbering them afresh (in sorted order) could swap two ids, and while the new ipcache and
 * policy entries are written one by one, an address would for a moment carry the id another label
 * set is allowed under: a connection opened then stays allowed. So the first pass keeps, for every
 * label set of the snapshot, the id its addresses (pods) or prefix (policy CIDR regions) have in
 * the ipcache now, and only label sets the ipcache does not know get new ids.
 */
public final class IdentityRecovery {
  private IdentityRecovery() {}

  /**
   * Label set -> the id the ipcache gives it, for the label sets of {@code state}. A label set
   * whose addresses disagree keeps the id of the first of them (pods sorted by namespace/name); an
   * id is given to one label set only.
   */
  public static IdentityAllocation recover(ClusterState state,
      Map<Ipcache4Key, Ipcache4Value> ipcache) {
    if (ipcache.isEmpty()) {
      return IdentityAllocation.EMPTY;
    }
    Identities fresh = Identities.resolve(state, Policies.parse(state), IdentityAllocation.EMPTY);
    TreeMap<LabelSet, Long> recovered = new TreeMap<>();
    Set<Long> taken = new HashSet<>();
    for (Map.Entry<Long, java.util.List<Pod>> e : new TreeMap<>(fresh.podsById()).entrySet()) {
      LabelSet labels = fresh.byId().get(e.getKey()).labels();
      for (Pod pod : e.getValue()) {
        Optional<Long> old = Cluster.primaryIpv4(pod)
            .flatMap(ip -> allocatedId(ipcache, Ipcache4Key.host(ip)));
        if (old.isPresent() && taken.add(old.get())) {
          recovered.put(labels, old.get());
          break;
        }
      }
    }
    fresh.cidrIdentities().forEach((cidr, id) -> {
      Identities.Identity identity = fresh.byId().get(id);
      if (identity == null || identity.kind() != Identities.Kind.CIDR
          || recovered.containsKey(identity.labels())) {
        return;
      }
      allocatedId(ipcache, new Ipcache4Key(cidr.length(), cidr.address()))
          .filter(taken::add).ifPresent(old -> recovered.put(identity.labels(), old));
    });
    return new IdentityAllocation(recovered);
  }

  private static Optional<Long> allocatedId(Map<Ipcache4Key, Ipcache4Value> ipcache,
      Ipcache4Key key) {
    return Optional.ofNullable(ipcache.get(key)).map(Ipcache4Value::identity)
        .filter(id -> id >= Ipcache4Value.IDENTITY_FIRST_ALLOCATED);
  }
}
