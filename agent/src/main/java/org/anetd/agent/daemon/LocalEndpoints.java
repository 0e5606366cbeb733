package org.anetd.agent.daemon;

import java.util.Map;
import org.anetd.agent.datapath.Ipv4;

/**
 * The pods of this node that have a datapath endpoint: pod UID (or namespace/name) -> endpoint id,
 * and the address the CNI gave each (kubelet reports it in the pod's status only after ADD). The
 * endpoint room (CNI) owns the registry; the reconciler only reads it.
 */
@FunctionalInterface
public interface LocalEndpoints {
  /** One consistent view: endpoint ids and addresses, both keyed by pod UID or namespace/name. */
  record View(Map<String, Integer> ids, Map<String, Ipv4> addresses) {
    public View {
      ids = Map.copyOf(ids);
      addresses = Map.copyOf(addresses);
    }
  }

  Map<String, Integer> current();

  /** Ids and addresses read together; the default knows no addresses. */
  default View view() {
    return new View(current(), Map.of());
  }

  LocalEndpoints NONE = Map::of;
}
