package org.anetd.agent.datapath;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.Predicate;
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
 * the dead ones keeps the tables below capacity, so eviction takes nothing alive.
 */
public final class ConntrackPurger {
  private ConntrackPurger() {}

  /** Deletes entries of {@code table} whose backend id is in {@code removed}; returns how many. */
  public static int purge(MapBackend table, Set<Long> removed) {
    if (removed.isEmpty()) {
      return 0;
    }
    return deleteWhere(table, e -> e.backendId() != 0 && removed.contains(e.backendId()));
  }

  /**
   * Deletes entries of {@code table} whose lifetime ended at or before {@code nowNs}, on the clock
   * of bpf_ktime_get_ns (CLOCK_MONOTONIC, which is what System.nanoTime reads on Linux); returns
   * how many. A packet that revives an entry between the read and the delete loses it again and is
   * treated as a new connection, as it would have been an instant earlier.
   */
  public static int purgeExpired(MapBackend table, long nowNs) {
    return deleteWhere(table, e -> e.expiresNs() <= nowNs);
  }

  /** One read of the table, one batch delete; entries this agent cannot decode are left alone. */
  private static int deleteWhere(MapBackend table, Predicate<Ct4Entry> doomed) {
    List<byte[]> keys = new ArrayList<>();
    for (BpfMap.Entry e : table.entries()) {
      try {
        if (doomed.test(Ct4EntryCodec.INSTANCE.decode(e.value()))) {
          keys.add(e.key());
        }
      } catch (IllegalArgumentException ex) {
        // not a conntrack entry this agent can read: left to the map's own eviction
      }
    }
    return keys.isEmpty() ? 0 : table.delete(keys);
  }
}
