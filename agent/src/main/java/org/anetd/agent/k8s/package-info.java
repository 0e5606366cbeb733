/**
 * The cluster as the agent sees it: fabric8 informers feed immutable, versioned
 * {@link org.anetd.agent.k8s.ClusterState} snapshots; problems with objects are
 * {@link org.anetd.agent.k8s.Problem}s with a closed {@link org.anetd.agent.k8s.Reason}.
 *
 * <p>Dependencies point down: service/ and policy/ read ClusterState; this package reads nothing
 * of theirs.
 */
package org.anetd.agent.k8s;
