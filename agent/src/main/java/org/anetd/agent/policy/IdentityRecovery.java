package org.anetd.agent.policy;

import io.fabric8.kubernetes.api.model.Pod;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
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
  /** Label prefix of the placeholders that hold back ids of label sets that are gone. */
  static final String HELD_BACK = "anetd:held-back-id=";

  private IdentityRecovery() {}

  /**
   * Label set -> the id the ipcache gives it, for the label sets of {@code state}. When the
   * addresses of a label set disagree (a pod relabelled while no agent ran) the id most of them
   * have wins, and an id goes to the label set most of its addresses belong to; ties go to the
   * lower id, then the first label set in order.
   *
   * <p>Every other allocated id the ipcache carries (label sets that are gone, or that lost their
   * id) is held by a placeholder label set no pod has, so the first pass gives it to no new label
   * set while the ipcache entries that carry it are rewritten ({@link IdentityAllocator} holds an
   * id of the previous allocation back for one pass).
   */
  public static IdentityAllocation recover(ClusterState state,
      Map<Ipcache4Key, Ipcache4Value> ipcache) {
    if (ipcache.isEmpty()) {
      return IdentityAllocation.EMPTY;
    }
    Identities fresh = Identities.resolve(state, Policies.parse(state), IdentityAllocation.EMPTY);
    // votes: label set -> old id -> how many of its addresses have it
    Map<LabelSet, Map<Long, Integer>> votes = new TreeMap<>();
    for (Map.Entry<Long, List<Pod>> e : fresh.podsById().entrySet()) {
      LabelSet labels = fresh.byId().get(e.getKey()).labels();
      for (Pod pod : e.getValue()) {
        Cluster.primaryIpv4(pod).flatMap(ip -> allocatedId(ipcache, Ipcache4Key.host(ip)))
            .ifPresent(old -> votes.computeIfAbsent(labels, k -> new TreeMap<>())
                .merge(old, 1, Integer::sum));
      }
    }
    fresh.cidrIdentities().forEach((cidr, id) -> {
      Identities.Identity identity = fresh.byId().get(id);
      if (identity != null && identity.kind() == Identities.Kind.CIDR) {
        allocatedId(ipcache, new Ipcache4Key(cidr.length(), cidr.address()))
            .ifPresent(old -> votes.computeIfAbsent(identity.labels(), k -> new TreeMap<>())
                .merge(old, 1, Integer::sum));
      }
    });

    record Vote(LabelSet labels, long id, int count) {}
    List<Vote> all = new ArrayList<>();
    votes.forEach((labels, byId) -> byId.forEach((id, n) -> all.add(new Vote(labels, id, n))));
    all.sort(Comparator.comparingInt(Vote::count).reversed().thenComparingLong(Vote::id)
        .thenComparing(Vote::labels));
    TreeMap<LabelSet, Long> recovered = new TreeMap<>();
    Set<Long> taken = new HashSet<>();
    for (Vote v : all) {
      if (!recovered.containsKey(v.labels()) && taken.add(v.id())) {
        recovered.put(v.labels(), v.id());
      }
    }
    for (Ipcache4Value v : ipcache.values()) {
      long id = v.identity();
      if (id >= Ipcache4Value.IDENTITY_FIRST_ALLOCATED && taken.add(id)) {
        recovered.put(new LabelSet(new TreeSet<>(List.of(HELD_BACK + id))), id);
      }
    }
    return new IdentityAllocation(recovered);
  }

  private static Optional<Long> allocatedId(Map<Ipcache4Key, Ipcache4Value> ipcache,
      Ipcache4Key key) {
    return Optional.ofNullable(ipcache.get(key)).map(Ipcache4Value::identity)
        .filter(id -> id >= Ipcache4Value.IDENTITY_FIRST_ALLOCATED);
  }
}
