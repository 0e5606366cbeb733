package org.anetd.agent.datapath;

/** A datapath event from the ring buffer. See {@link EventCodec}. */
public record Event(long timestampNs, Ipv4 saddr, Ipv4 daddr, int sport, int dport, int type,
    Protocol protocol, int direction, boolean allowed, long endpointId, long remoteIdentity,
    long policySetId, long reason) {
  public static final int TYPE_POLICY_VERDICT = 1;
  public static final int TYPE_DROP = 2;
  public static final int TYPE_TRACE = 3;
}
