package org.anetd.agent.service;

/** Where a frontend address comes from in the Service. */
public enum FrontendKind {
  /** spec.clusterIP / spec.clusterIPs. */
  CLUSTER_IP,
  /** A node address of this node with spec.ports[].nodePort. */
  NODE_PORT,
  /** status.loadBalancer.ingress[].ip. */
  LOAD_BALANCER,
  /** spec.externalIPs. */
  EXTERNAL_IP
}
