package org.anetd.agent.k8s;

/**
 * Why an object (or config value) was skipped or degraded: a closed vocabulary that names both the
 * Kubernetes Event reason and the {@code reason} label of the problems metric.
 */
public enum Reason {
  InvalidCidr,
  InvalidIp,
  InvalidPort,
  UnknownPortName,
  UnsupportedProtocol,
  InvalidSelector,
  InvalidPeer,
  UnknownPolicyType,
  MapFull,
  ConfigRejected,
  UnknownConfigKey,
  PortRangeOverlap,
  /** Another object already programs this address and port (frontend or health check port). */
  PortConflict,
  /** A timeout outside its allowed range (e.g. session affinity). */
  InvalidTimeout,
  InvalidObject
}
