/**
 * Service load balancing as data: Services and EndpointSlices in, the exact contents of
 * lb4_services, lb4_backends and lb4_reverse_nat out, for the Reconciler to write.
 *
 * <p>Entry point: {@link org.anetd.agent.service.ServiceCompiler#compile}, a pure function of a
 * {@link org.anetd.agent.k8s.ClusterState}, a {@link
 * org.anetd.agent.service.ServiceCompilerConfig} and the previous {@link
 * org.anetd.agent.service.ServiceIds} (ids must survive restarts: conntrack holds them). It
 * returns {@link org.anetd.agent.service.DesiredServices}, including problems for what it skipped.
 * {@link org.anetd.agent.service.HealthCheckServer} is the one piece with I/O: it serves the
 * healthCheckNodePorts the compile asks for.
 *
 * <p>Dependencies point one way: k8s (ClusterState, Problem) -> service -> datapath (the
 * Lb4Key/Lb4Service/Lb4Backend/Lb4ReverseNat records). Nothing here touches the kernel or the API
 * server; neither k8s nor datapath depends on this package.
 */
package org.anetd.agent.service;
