package org.anetd.agent.logging;

import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.anetd.agent.k8s.ClusterState;
import org.anetd.agent.k8s.ObjectRef;

/**
 * What the logger reads for each event, as of the last reconcile pass: the snapshot (pods,
 * namespaces and policies with their annotations, and {@link ClusterState#nodeName()} for
 * node_name), the policy sets the datapath's verdicts refer to ({@code
 * DesiredPolicy.policySets()}: policy set id -> the NetworkPolicies that allow), and the
 * NetworkLogging settings in force.
 */
public record LoggingContext(ClusterState state, Map<Long, List<ObjectRef>> policySets,
    LoggingSettings settings) {
  public LoggingContext {
    Objects.requireNonNull(state, "state");
    Objects.requireNonNull(policySets, "policySets");
    Objects.requireNonNull(settings, "settings");
    policySets = Map.copyOf(policySets);
  }
}
