/**
 * The cluster as the agent sees it: fabric8 informers feed immutable, versioned
 * {@link org.anetd.agent.k8s.ClusterState} snapshots; problems with objects are
 * {@link org.anetd.agent.k8s.Problem}s with a closed {@link org.anetd.agent.k8s.Reason}.
 *
 * <p>Entry points:
 * <ul>
 *   <li>{@link org.anetd.agent.k8s.ClusterStateSource}: one informer per watched kind (Services,
 *       EndpointSlices, NetworkPolicies, Pods, Namespaces, Nodes); handlers only mark a kind
 *       dirty, one builder thread turns the caches into debounced snapshots, and
 *       {@code awaitNext} hands the newest to the pipeline. {@code health()} says which informers
 *       are not synced or watching.
 *   <li>{@link org.anetd.agent.k8s.EventRecorder}: reports a Problem as a deduplicated,
 *       rate-limited Warning Event on its object and counts problems by Reason.
 * </ul>
 *
 * <p>Dependencies point down: service/ and policy/ read ClusterState; this package reads nothing
 * of theirs. Only these two classes talk to the API server.
 */
package org.anetd.agent.k8s;
