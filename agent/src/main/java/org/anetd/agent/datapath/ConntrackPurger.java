package org.anetd.agent.datapath;

import java.util.List;
import java.util.Set;
import java.util.function.BiPredicate;
import org.anetd.agent.bpf.BpfMap;

/**
 * Removes conntrack entries of connections to backends the agent just deleted from the backend
 * map. Both directions of a service connection carry its {@code backend_id}
 * (docs/dev/service-datapath.md), so an entry goes when that id is gone: the next UDP datagram of
 * the flow is then balanced to a live backend, and a TCP connection to a vanished pod stops
 * holding a table slot. Terminating backends stay in the backend map and keep their connections.
 *
 * <p>It also removes entries whose lifetime has ended ({@link #purgeExpired}). The datapath treats
 * them as absent already, but an LRU map keeps them until it is full and then evicts by last use:
 * an idle connection that is still alive goes before the closed ones of the last minutes. Deleting
 * the dead ones keeps the tables below capacity, so eviction takes nothing alive. The SNAT table
 * of bpf_host is collected the same way ({@link #purgeExpiredSnat}).
 */
public final class ConntrackPurger {
  private ConntrackPurger() {}

  /** Deletes entries of {@code table} whose backend id is in {@code removed}; returns how many. */
  public static int purge(MapBackend table, Set<Long> removed) {
    return purge(table, removed, Set.of());
  }

  /**
   * Deletes entries of {@code table} whose backend id is in {@code removedBackends} or whose
   * reverse NAT id is in {@code removedRevNat} (a frontend address that is gone: once its id goes
   * to another frontend, replies of its connections would be rewritten to that one's address);
   * returns how many.
   */
  public static int purge(MapBackend table, Set<Long> removedBackends, Set<Integer> removedRevNat) {
    if (removedBackends.isEmpty() && removedRevNat.isEmpty()) {
      return 0;
    }
    return deleteWhere(table, (key, e) -> e.backendId() != 0
        && removedBackends.contains(e.backendId())
        || e.revNatId() != 0 && removedRevNat.contains(e.revNatId()));
  }

  /**
   * Deletes entries of {@code table} that name a backend id not in {@code liveBackendIds} (the ids
   * of the backend map) or a reverse NAT id not in {@code liveRevNatIds}; returns how many. A
   * purge that did not finish (the agent was killed after it deleted backends, or the purge
   * failed) leaves such entries behind, and once their id is given to a new backend they would
   * follow it: a quiet UDP flow would wake up sending to another service's pod. Policy entries
   * (backend id 0) are not touched.
   */
  public static int purgeOrphans(MapBackend table, Set<Long> liveBackendIds,
      Set<Integer> liveRevNatIds) {
    return deleteWhere(table, (key, e) -> e.backendId() != 0
        && !liveBackendIds.contains(e.backendId())
        || e.revNatId() != 0 && !liveRevNatIds.contains(e.revNatId()));
  }

  /**
   * Deletes entries of {@code table} whose tuple has one of {@code addresses} as source or
   * destination, or that translate to one (pods that are gone: their own policy entries, their
   * peers' entries of connections with them, service entries of them as clients, and as backends
   * the forward entries that would send the next datagram of a flow to them); returns how many.
   */
  public static int purgeAddresses(MapBackend table, Set<Ipv4> addresses) {
    if (addresses.isEmpty()) {
      return 0;
    }
    return deleteWhere(table, (key, e) -> addresses.contains(key.saddr())
        || addresses.contains(key.daddr()) || addresses.contains(e.natAddress()));
  }

  /**
   * Deletes entries of {@code table} whose lifetime ended at or before {@code nowNs}, on the clock
   * of the datapath (CLOCK_MONOTONIC, at tick resolution; System.nanoTime reads it on Linux); returns
   * how many.
   */
  public static int purgeExpired(MapBackend table, long nowNs) {
    return deleteWhere(table, (key, e) -> e.expiresNs() <= nowNs);
  }

  /**
   * {@link #purgeExpired} for the SNAT table ({@code anetd_snat4}, values {@link Snat4Entry}):
   * both entries of a SNATed connection carry its conntrack expiry and are refreshed with it, so
   * a dead one belongs to a connection that ended. It is an LRU map as well: left full, it would
   * evict the entries of idle live connections, whose replies then find no way back.
   */
  public static int purgeExpiredSnat(MapBackend table, long nowNs) {
    return deleteWhere(table, Snat4EntryCodec.INSTANCE, (key, e) -> e.expiresNs() <= nowNs);
  }

  /**
   * One read of the table, then each doomed entry is read again just before it is deleted, and
   * kept if it no longer is doomed. The datapath writes the table all the time: between the read
   * and the delete (up to a second on a full table) a new connection may take over the tuple of
   * an entry read as dead (ports come round every few seconds under load), and deleting its
   * fresh entry would break it: a service connection translated per packet would lose one half of
   * its pair (its replies no longer translated back). Entries this agent cannot decode are left
   * alone.
   */
  private static int deleteWhere(MapBackend table, BiPredicate<Ct4Key, Ct4Entry> doomed) {
    return deleteWhere(table, Ct4EntryCodec.INSTANCE, doomed);
  }

  /** {@link #deleteWhere(MapBackend, BiPredicate)} for a table keyed by ct4_key with values V. */
  private static <V> int deleteWhere(MapBackend table, Codec<V> values,
      BiPredicate<Ct4Key, V> doomed) {
    int[] deleted = {0};
    // a chunk at a time: a full table (524,288 entries) would be ~70 MB of the agent's heap
    table.forEachChunk(chunk -> {
      for (BpfMap.Entry e : chunk) {
        if (isDoomed(e.key(), e.value(), values, doomed) && table.lookup(e.key())
            .filter(now -> isDoomed(e.key(), now, values, doomed)).isPresent()) {
          deleted[0] += table.delete(List.of(e.key()));
        }
      }
    });
    return deleted[0];
  }

  private static <V> boolean isDoomed(byte[] key, byte[] value, Codec<V> values,
      BiPredicate<Ct4Key, V> doomed) {
    try {
      return doomed.test(Ct4KeyCodec.INSTANCE.decode(key), values.decode(value));
    } catch (IllegalArgumentException ex) {
      return false; // not an entry this agent can read: left to the map's own eviction
    }
  }
}
