/**
 * The policy room: NetworkPolicy -> security identities, ipcache and per-endpoint policy
 * entries, all pure functions of a {@link org.anetd.agent.k8s.ClusterState} (no client, no I/O).
 *
 * <p>Entry points, in the order a pass calls them:
 *
 * <pre>
 * DesiredPolicy p = PolicyCompiler.compile(state, localEndpoints, lastAllocation);
 * Map&lt;Ipcache4Key, Ipcache4Value&gt; ipcache = IpcacheCompiler.compile(state, p.identities(), localEndpoints);
 * lastAllocation = p.identities().allocation();   // keeps identities stable across passes
 * </pre>
 *
 * {@link org.anetd.agent.policy.PolicyTrace} explains one connection's verdict; {@link
 * org.anetd.agent.policy.PolicyLookup} is the datapath's lookup order in Java (the C mirrors it).
 *
 * <p><b>Identities.</b> One identity per distinct label set: pod labels ({@code k8s:}), the
 * namespace name ({@code k8s:io.kubernetes.pod.namespace=NAME}) and namespace labels ({@code
 * ns:}), allocated by {@link org.anetd.agent.policy.IdentityAllocator} from 256 up, stable across
 * passes. Reserved: host 1, world 2, remote-node 6.
 *
 * <p><b>ipBlocks, exactly.</b> Policy keys match identities, but ipBlocks match addresses, and
 * ipBlocks may contain pod IPs (a pod's /32, or a pod CIDR with one pod excepted). So a pod's
 * label set also holds a {@code cidr:} label for each policy ipBlock (cidr minus excepts) that
 * contains its primary IPv4: pods that differ in block membership get different identities, and
 * an ipBlock peer compiles to the identities carrying its label. Every block cidr and except
 * prefix is an ipcache LPM entry; its identity is that of the addresses it owns (those no longer
 * prefix claims), which match a fixed set of blocks. 0.0.0.0/0 is world, and so is any prefix
 * matching the same blocks as the world region; any other set gets a "CIDR identity". Addresses
 * in no policy prefix therefore resolve to world. Node addresses are host / remote-node and
 * ipBlocks never match them (Cilium's default); traffic between a pod and its own node is always
 * allowed, as Kubernetes requires. Cost: adding an ipBlock that covers pods re-numbers those
 * pods' identities.
 *
 * <p><b>Bad input never widens access.</b> An invalid peer, CIDR or port is dropped from its rule
 * and reported as a {@link org.anetd.agent.k8s.Problem}; a rule whose peers (or ports) were all
 * dropped is dropped, never read as "all". The policy keeps selecting and isolating its pods: a
 * skipped allow denies more, never less. Only an invalid spec.podSelector skips a policy.
 *
 * <p>Dependencies: k8s (ClusterState, Problem) -> policy -> datapath records (PolicyKey,
 * PolicyEntry, EndpointPolicy, Ipcache4Key/Value). Nothing here touches bpf; nothing below
 * imports this package.
 */
package org.anetd.agent.policy;
