/**
 * Pod endpoints: the CNI server the cni/anetd-cni plugin talks to, pod address management (IPAM)
 * and the veth, route and datapath wiring of each pod.
 *
 * <p>Entry points: {@link org.anetd.agent.endpoint.CniServer} (the unix socket, one request per
 * connection) and {@link org.anetd.agent.endpoint.EndpointManager} (ADD, DEL, CHECK, STATUS, GC).
 * Decisions are pure and unit-tested: {@link org.anetd.agent.endpoint.Ipam},
 * {@link org.anetd.agent.endpoint.IpamGarbageCollector}, {@link org.anetd.agent.endpoint.CniJson}.
 * I/O stays at the edges: {@link org.anetd.agent.endpoint.IpamStore} and
 * {@link org.anetd.agent.endpoint.EndpointRegistry} (state files),
 * {@link org.anetd.agent.endpoint.LinkOps} (links, addresses, routes) and
 * {@link org.anetd.agent.endpoint.EndpointDatapath} (programs). The endpoint's ipcache and
 * policy entries are not written here: {@link org.anetd.agent.endpoint.EndpointPublisher} hands
 * the endpoint to the agent, whose reconciler is the only writer of those maps.
 *
 * <p>This room depends on bpf (attachment) and datapath (addresses). Nothing depends on it
 * except daemon, cli and lab, which start it.
 */
package org.anetd.agent.endpoint;
