package org.anetd.agent.datapath;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.anetd.agent.bpf.BpfMap;

/**
 * Removes conntrack entries of connections to backends the agent just deleted from the backend
 * map. Both directions of a service connection carry its {@code backend_id}
 * (docs/dev/service-datapath.md), so an entry goes when that id is gone: the next UDP datagram of
 * the flow is then balanced to a live backend, and a TCP connection to a vanished pod stops
 * holding a table slot. Terminating backends stay in the backend map and keep their connections.
 */
public final class ConntrackPurger {
  private ConntrackPurger() {}

  /** Deletes entries of {@code table} whose backend id is in {@code removed}; returns how many. */
  public static int purge(MapBackend table, Set<Long> removed) {
    if (removed.isEmpty()) {
      return 0;
    }
    List<byte[]> doomed = new ArrayList<>();
    for (BpfMap.Entry e : table.entries()) {
      long backendId;
      try {
        backendId = Ct4EntryCodec.INSTANCE.decode(e.value()).backendId();
      } catch (IllegalArgumentException ex) {
        continue;
      }
      if (backendId != 0 && removed.contains(backendId)) {
        doomed.add(e.key());
      }
    }
    return doomed.isEmpty() ? 0 : table.delete(doomed);
  }
}
