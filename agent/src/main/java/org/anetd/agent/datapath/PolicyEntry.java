package org.anetd.agent.datapath;

/** An allow entry; {@code policySetId} names the policies that allow it. See {@link PolicyEntryCodec}. */
public record PolicyEntry(long policySetId, int verdict, boolean log) {
  public static final int VERDICT_ALLOW = 1;
  /** The set of no policy: the implicit allow of an endpoint's own node (Kubernetes' rule). */
  public static final long NODE_LOCAL_POLICY_SET = 0;
}
