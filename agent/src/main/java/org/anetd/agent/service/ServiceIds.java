package org.anetd.agent.service;

import java.util.Collection;
import java.util.Collections;
import java.util.HashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The id allocation of one compile, passed back into the next one: backend ids (u32, from 1) by
 * backend address and rev-NAT ids (u16, 1..65535) by frontend address.
 *
 * <p>Ids must be stable because the kernel keeps them where the agent cannot rewrite them:
 * conntrack entries hold the backend id and rev-NAT id of every established connection, and they
 * outlive agent restarts. So an id that something still desired already had keeps its number, and
 * only new things get new ids: the lowest numbers that are free and were not in use in the previous
 * allocation. An id freed in this pass is held back until the next one, because until this pass's
 * writes finish, old slots and conntrack entries still name it: reusing it at once would send their
 * packets to the new owner (the writer updates backends before it removes the old slots).
 */
public record ServiceIds(
    SortedMap<BackendAddress, Long> backendIds, SortedMap<FrontendAddress, Integer> revNatIds) {
  public static final long MAX_BACKEND_ID = 0xFFFF_FFFFL;
  public static final int MAX_REV_NAT_ID = 0xFFFF;

  public ServiceIds {
    backendIds = Collections.unmodifiableSortedMap(new TreeMap<>(backendIds));
    revNatIds = Collections.unmodifiableSortedMap(new TreeMap<>(revNatIds));
  }

  public static ServiceIds empty() {
    return new ServiceIds(new TreeMap<>(), new TreeMap<>());
  }

  /**
   * The ids the datapath holds now, read back from the maps a previous agent wrote: a restarted
   * agent continues with them, so conntrack entries of established connections keep meaning the
   * same backends and service addresses.
   */
  public static ServiceIds recover(Map<org.anetd.agent.datapath.Lb4Key,
      org.anetd.agent.datapath.Lb4Service> services,
      Map<Long, org.anetd.agent.datapath.Lb4Backend> backends) {
    SortedMap<BackendAddress, Long> backendIds = new TreeMap<>();
    backends.forEach((id, b) -> backendIds.putIfAbsent(
        new BackendAddress(b.address(), b.port(), b.protocol()), id));
    SortedMap<FrontendAddress, Integer> revNatIds = new TreeMap<>();
    services.forEach((key, value) -> {
      if (key.slot() == 0) {
        revNatIds.putIfAbsent(new FrontendAddress(key.address(), key.port(), key.protocol()),
            value.revNatId());
      }
    });
    return new ServiceIds(backendIds, revNatIds);
  }

  public Optional<Long> backendId(BackendAddress backend) {
    return Optional.ofNullable(backendIds.get(backend));
  }

  public Optional<Integer> revNatId(FrontendAddress frontend) {
    return Optional.ofNullable(revNatIds.get(frontend));
  }

  /**
   * Ids for exactly {@code backends} and {@code frontends}: previous ids are kept, new things get
   * the lowest free numbers in sorted order. Throws if the id space is exhausted (the compiler's
   * map limits keep that from happening).
   */
  static ServiceIds allocate(
      ServiceIds previous,
      Collection<BackendAddress> backends,
      Collection<FrontendAddress> frontends) {
    SortedMap<BackendAddress, Long> backendIds =
        StableIds.allocate(new TreeSet<>(backends), previous.backendIds(), MAX_BACKEND_ID);
    SortedMap<FrontendAddress, Long> revNat =
        StableIds.allocate(
            new TreeSet<>(frontends), widen(previous.revNatIds()), MAX_REV_NAT_ID);
    SortedMap<FrontendAddress, Integer> revNatIds = new TreeMap<>();
    revNat.forEach((f, id) -> revNatIds.put(f, id.intValue()));
    return new ServiceIds(backendIds, revNatIds);
  }

  private static SortedMap<FrontendAddress, Long> widen(Map<FrontendAddress, Integer> ids) {
    SortedMap<FrontendAddress, Long> wide = new TreeMap<>();
    ids.forEach((f, id) -> wide.put(f, id.longValue()));
    return wide;
  }

  /** Stable id allocation over any sorted key. */
  static final class StableIds {
    private StableIds() {}

    static <K extends Comparable<K>> SortedMap<K, Long> allocate(
        TreeSet<K> desired, SortedMap<K, Long> previous, long maxId) {
      SortedMap<K, Long> ids = new TreeMap<>();
      Set<Long> used = new HashSet<>();
      // Keep the ids of things still desired. A previous id out of range or already taken (a
      // corrupt hand-over, never produced by allocate) is dropped and the key treated as new.
      for (Map.Entry<K, Long> kept : previous.entrySet()) {
        long id = kept.getValue();
        if (desired.contains(kept.getKey()) && id >= 1 && id <= maxId && used.add(id)) {
          ids.put(kept.getKey(), id);
        }
      }
      // Ids freed in this pass stay reserved for one more pass (see the class comment).
      Set<Long> reserved = new HashSet<>(used);
      for (Long id : previous.values()) {
        if (id != null && id >= 1 && id <= maxId) {
          reserved.add(id);
        }
      }
      long next = 1;
      for (K key : desired) {
        if (ids.containsKey(key)) {
          continue;
        }
        while (reserved.contains(next)) {
          next++;
        }
        if (next > maxId) {
          throw new IllegalStateException("id space exhausted (max " + maxId + ")");
        }
        ids.put(key, next);
        reserved.add(next);
        next++;
      }
      return ids;
    }
  }
}
