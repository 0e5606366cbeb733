package org.anetd.agent.service;

import java.util.BitSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Stable ids for the keys of one kind (backend addresses, frontend addresses), allocated pass
 * after pass the way {@link ServiceIds#allocate} does: a key keeps its id while it is wanted, new
 * keys get the lowest ids that are free and were not in use at the last committed pass, in key
 * order. Ids freed since the last commit stay held back until the next one (see {@link
 * ServiceIds}); after a failed write nothing is released from hold until a pass commits.
 *
 * <p>Small ids live in bit sets; ids this agent never hands out itself (adopted from maps a
 * different writer filled) may be large and are kept in a set beside them.
 */
final class IdPool<K extends Comparable<K>> {
  /** Ids at or above this are only ever adopted, never allocated. */
  private static final long DENSE_LIMIT = 1L << 26;

  private final long maxId;
  private final Map<K, Long> ids = new HashMap<>();
  private final BitSet inUse = new BitSet();
  private final BitSet held = new BitSet();
  private final Set<Long> sparseInUse = new HashSet<>();
  private final Set<Long> sparseHeld = new HashSet<>();

  IdPool(long maxId, Map<K, Long> adopted) {
    this.maxId = maxId;
    adopted.forEach((key, id) -> {
      if (id >= 1 && id <= maxId && !isUsed(id)) {
        ids.put(key, id);
        mark(id, true);
      }
    });
    commit();
  }

  Long idOf(K key) {
    return ids.get(key);
  }

  Map<K, Long> view() {
    return java.util.Collections.unmodifiableMap(ids);
  }

  /** Frees the id of {@code key}; it stays held back until a later commit. */
  void release(K key) {
    Long id = ids.remove(key);
    if (id != null) {
      mark(id, false);
    }
  }

  /** Gives each key (sorted, none holding an id) the lowest id neither in use nor held back. */
  void allocate(List<K> sortedNewKeys) {
    int next = 1;
    for (K key : sortedNewKeys) {
      while (held.get(next) || inUse.get(next)) {
        next++;
      }
      if (next > maxId || next >= DENSE_LIMIT) {
        throw new IllegalStateException("id space exhausted (max " + maxId + ")");
      }
      ids.put(key, (long) next);
      inUse.set(next);
      held.set(next);
      next++;
    }
  }

  /** The pass's writes landed: from now on only ids in use are held back. */
  void commit() {
    held.clear();
    held.or(inUse);
    sparseHeld.clear();
    sparseHeld.addAll(sparseInUse);
  }

  private boolean isUsed(long id) {
    return id < DENSE_LIMIT ? inUse.get((int) id) : sparseInUse.contains(id);
  }

  private void mark(long id, boolean used) {
    if (id < DENSE_LIMIT) {
      inUse.set((int) id, used);
      if (used) {
        held.set((int) id);
      }
    } else if (used) {
      sparseInUse.add(id);
      sparseHeld.add(id);
    } else {
      sparseInUse.remove(id);
    }
  }
}
