package org.anetd.agent.daemon;

import java.util.Map;

/**
 * The pods of this node that have a datapath endpoint: pod UID (or namespace/name) -> endpoint id.
 * The endpoint room (CNI) owns the registry; the reconciler only reads it.
 */
@FunctionalInterface
public interface LocalEndpoints {
  Map<String, Integer> current();

  LocalEndpoints NONE = Map::of;
}
