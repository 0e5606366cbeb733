package org.anetd.agent.policy;

import java.util.Collections;
import java.util.List;
import java.util.SortedMap;
import java.util.TreeMap;
import org.anetd.agent.datapath.EndpointPolicy;
import org.anetd.agent.datapath.PolicyEntry;
import org.anetd.agent.datapath.PolicyKey;
import org.anetd.agent.k8s.ObjectRef;
import org.anetd.agent.k8s.Problem;

/**
 * What the policy maps of this node should hold, as {@link PolicyCompiler} computed it.
 *
 * @param identities the identities it was compiled against (feed them to {@link
 *     IpcacheCompiler}, and their allocation to the next pass)
 * @param entries allow entries of the local endpoints, sorted by {@link PolicyCompiler#KEY_ORDER}
 * @param endpoints every local endpoint id -> its identity and isolation flags
 * @param policySets policy set id -> the policies that allow an entry; id 0 is the empty set, for
 *     the implicit allow of the endpoint's own node
 * @param problems what was skipped or dropped, and why
 */
public record DesiredPolicy(Identities identities, SortedMap<PolicyKey, PolicyEntry> entries,
    SortedMap<Long, EndpointPolicy> endpoints, SortedMap<Long, List<ObjectRef>> policySets,
    List<Problem> problems) {
  public static final long NODE_LOCAL_POLICY_SET = PolicyEntry.NODE_LOCAL_POLICY_SET;

  public DesiredPolicy {
    TreeMap<PolicyKey, PolicyEntry> e = new TreeMap<>(PolicyCompiler.KEY_ORDER);
    e.putAll(entries);
    entries = Collections.unmodifiableSortedMap(e);
    endpoints = Collections.unmodifiableSortedMap(new TreeMap<>(endpoints));
    policySets = Collections.unmodifiableSortedMap(new TreeMap<>(policySets));
    problems = List.copyOf(problems);
  }
}
