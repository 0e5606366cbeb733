package org.anetd.agent.datapath;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.anetd.agent.bpf.BpfMap;

/**
 * Removes conntrack entries that still point at backends the agent just removed, so the next
 * datagram of a UDP flow is load-balanced to a live backend instead of being sent into the void.
 * TCP entries are left alone: a removed backend's TCP connections are dead with the pod, and a
 * terminating backend (still in the backend map) keeps its established connections.
 */
public final class ConntrackPurger {
  private ConntrackPurger() {}

  /** True when {@code entry} (in the non-TCP table) belongs to a flow to a removed backend. */
  static boolean pointsAtRemoved(Ct4Key key, Ct4Entry entry, Map<Long, Lb4Backend> removed) {
    if (key.protocol() == Protocol.TCP) {
      return false;
    }
    if ((key.flags() & Ct4Key.F_SERVICE) != 0 && removed.containsKey(entry.backendId())) {
      return true;
    }
    if ((key.flags() & Ct4Key.F_REPLY) != 0) {
      // Reply entries are keyed by the backend's own address: backend -> client.
      for (Lb4Backend b : removed.values()) {
        if (b.address().equals(key.saddr()) && b.port() == key.sport()
            && b.protocol() == key.protocol()) {
          return true;
        }
      }
    }
    return false;
  }

  /** Scans the non-TCP conntrack table and deletes flows to removed backends; returns how many. */
  public static int purge(MapBackend ctAny, Map<Long, Lb4Backend> removed) {
    if (removed.isEmpty()) {
      return 0;
    }
    List<byte[]> doomed = new ArrayList<>();
    for (BpfMap.Entry e : ctAny.entries()) {
      Ct4Key key;
      Ct4Entry entry;
      try {
        key = Ct4KeyCodec.INSTANCE.decode(e.key());
        entry = Ct4EntryCodec.INSTANCE.decode(e.value());
      } catch (IllegalArgumentException ex) {
        continue; // a protocol this agent does not know: not one of its service flows
      }
      if (pointsAtRemoved(key, entry, removed)) {
        doomed.add(e.key());
      }
    }
    return doomed.isEmpty() ? 0 : ctAny.delete(doomed);
  }
}
