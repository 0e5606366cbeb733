package org.anetd.agent.policy;

import java.util.Collection;
import java.util.HashSet;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.anetd.agent.datapath.Ipcache4Value;

/**
 * Stable identity allocation, a pure function: label sets that were allocated keep their ids,
 * new ones take the lowest free id from {@link Ipcache4Value#IDENTITY_FIRST_ALLOCATED}, and sets
 * not wanted any more are released. A released id is held back for one pass: until the pass's
 * writes finish, ipcache entries may still carry it, and reusing it at once would give those
 * addresses the new set's policy.
 */
public final class IdentityAllocator {
  private IdentityAllocator() {}

  public static IdentityAllocation allocate(IdentityAllocation previous,
      Collection<LabelSet> wanted) {
    TreeMap<LabelSet, Long> next = new TreeMap<>();
    Set<Long> used = new HashSet<>();
    TreeSet<LabelSet> fresh = new TreeSet<>();
    for (LabelSet labels : new TreeSet<>(wanted)) {
      Long old = previous.ids().get(labels);
      if (old != null && used.add(old)) {
        next.put(labels, old);
      } else {
        fresh.add(labels); // sorted, so a batch of new sets is numbered deterministically
      }
    }
    Set<Long> reserved = new HashSet<>(used);
    reserved.addAll(previous.ids().values());
    long candidate = Ipcache4Value.IDENTITY_FIRST_ALLOCATED;
    for (LabelSet labels : fresh) {
      while (reserved.contains(candidate)) {
        candidate++;
      }
      next.put(labels, candidate);
      reserved.add(candidate);
    }
    return new IdentityAllocation(next);
  }
}
