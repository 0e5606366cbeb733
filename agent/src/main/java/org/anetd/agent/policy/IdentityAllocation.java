package org.anetd.agent.policy;

import java.util.Collections;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * Label set -> numeric identity, as allocated by {@link IdentityAllocator}. The agent keeps the
 * last one and passes it to the next pass so identities stay stable. Reserved identities (host,
 * world, remote-node) are not in it.
 */
public record IdentityAllocation(SortedMap<LabelSet, Long> ids) {
  public static final IdentityAllocation EMPTY = new IdentityAllocation(new TreeMap<>());

  public IdentityAllocation {
    ids = Collections.unmodifiableSortedMap(new TreeMap<>(ids));
  }

  public Optional<Long> id(LabelSet labels) {
    return Optional.ofNullable(ids.get(labels));
  }
}
