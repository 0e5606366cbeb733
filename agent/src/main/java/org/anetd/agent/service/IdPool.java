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
 * <p>Each key's slot also counts who uses the key (the caller decides what the two counts mean),
 * so that one map per kind holds both: at 100,000 backends a second map is megabytes.
 *
 * <p>Small ids live in bit sets; ids this agent never hands out itself (adopted from maps a
 * different writer filled) may be large and are kept in a set beside them.
 */
final class IdPool<K extends Comparable<K>> {
  /** A key's id (0 until allocated) and its users. */
  static final class Slot {
    private long id;
    int primary;
    int secondary;

    boolean unused() {
      return primary == 0 && secondary == 0;
    }
  }

  /** Ids at or above this are only ever adopted, never allocated. */
  private static final long DENSE_LIMIT = 1L << 26;

  private final long maxId;
  private final Map<K, Slot> slots = new HashMap<>();
  private final BitSet inUse = new BitSet();
  private final BitSet held = new BitSet();
  private final Set<Long> sparseInUse = new HashSet<>();
  private final Set<Long> sparseHeld = new HashSet<>();

  IdPool(long maxId, Map<K, Long> adopted) {
    this.maxId = maxId;
    adopted.forEach((key, id) -> {
      if (id >= 1 && id <= maxId && !isUsed(id)) {
        slots.computeIfAbsent(key, k -> new Slot()).id = id;
        mark(id, true);
      }
    });
    commit();
  }

  Long idOf(K key) {
    Slot slot = slots.get(key);
    return slot == null || slot.id == 0 ? null : slot.id;
  }

  /** The key's slot, created (without an id) when absent. */
  Slot use(K key) {
    return slots.computeIfAbsent(key, k -> new Slot());
  }

  /** The key's slot, or null. */
  Slot slot(K key) {
    return slots.get(key);
  }

  /** Keys with their slots (for iteration; not to be modified). */
  Map<K, Slot> slots() {
    return java.util.Collections.unmodifiableMap(slots);
  }

  /** Keys holding an id, with it (a copy). */
  Map<K, Long> view() {
    Map<K, Long> out = new HashMap<>();
    slots.forEach((k, slot) -> {
      if (slot.id != 0) {
        out.put(k, slot.id);
      }
    });
    return out;
  }

  /** Forgets {@code key}: its id is freed but stays held back until a later commit. */
  void release(K key) {
    Slot slot = slots.remove(key);
    if (slot != null && slot.id != 0) {
      mark(slot.id, false);
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
      slots.computeIfAbsent(key, k -> new Slot()).id = next;
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
