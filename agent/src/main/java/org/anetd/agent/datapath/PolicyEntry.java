package org.anetd.agent.datapath;

/** An allow entry; {@code policySetId} names the policies that allow it. See {@link PolicyEntryCodec}. */
public record PolicyEntry(long policySetId, int verdict, boolean log) {
  public static final int VERDICT_ALLOW = 1;
}
