package org.anetd.agent.datapath;

/** A local endpoint's identity and isolation. See {@link EndpointPolicyCodec}; keyed by u32 id. */
public record EndpointPolicy(long identity, int flags) {
  public static final int F_INGRESS_ISOLATED = 0x01;
  public static final int F_EGRESS_ISOLATED = 0x02;
}
